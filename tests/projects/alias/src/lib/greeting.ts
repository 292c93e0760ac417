export const GREETING = 'Hello from the alias';

export function greet(name: string): string {
  return `${GREETING}, ${name}`;
}
