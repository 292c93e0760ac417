export function computeDomain(url: string): string {
  return new URL(url).hostname.split('.').reverse().join('-') + '.claudemcpcontent.com';
}
