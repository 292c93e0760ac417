export const resource = { title: 'Broken' };

export function BrokenResource() {
  return <p>{ 1 + }</p>;
}
