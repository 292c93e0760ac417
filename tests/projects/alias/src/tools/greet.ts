import { shout } from 'demo-lib';
import { greet } from '@/lib/greeting';

export const tool = {
  resource: 'hello',
  title: 'Greet',
  description: 'Greets someone',
};

export const schema = {};

export default async function (args: { name?: string }) {
  return { content: [{ type: 'text', text: shout(greet(args.name ?? 'world')) }] };
}
