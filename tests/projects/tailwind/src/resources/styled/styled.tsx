export const resource = { title: 'Styled' };

export function StyledResource() {
  return <p className="p-4 bg-brand underline custom">styled</p>;
}
