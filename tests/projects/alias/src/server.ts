import { GREETING } from '@/lib/greeting';

export async function auth() {
  return { token: '', clientId: 'anonymous', scopes: [] };
}

export const server = { version: '1.0.0', description: GREETING };
