import { GREETING } from '@/lib/greeting';

export const resource = {
  title: 'Hello',
  description: GREETING,
  mimeType: 'text/html;profile=mcp-app',
};

export function HelloResource() {
  return <p className="greeting">{GREETING}</p>;
}
