import { helper } from './helpers';

export const resource = { title: 'Missing' };

export function MissingResource() {
  return <p>{helper()}</p>;
}
