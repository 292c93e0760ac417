export const CDN = 'https://cdn.example.com';
export const CSP = { connectDomains: ['https://api.example.com'] } as const;
export { API_ORIGIN as REEXPORTED_ORIGIN } from '@/config/origins';
