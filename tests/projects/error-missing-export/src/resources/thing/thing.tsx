export const resource = { title: 'Thing' };

// The component must be exported as `ThingResource`.
export function Thing() {
  return <p>thing</p>;
}
