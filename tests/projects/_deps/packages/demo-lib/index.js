export function shout(s) {
  return `${s}!`;
}
export const LIB_ORIGIN = 'https://lib.example.com';
