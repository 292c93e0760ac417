export const resource = { title: 'Ok' };

export function OkResource() {
  return <p>ok</p>;
}
