import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthInfo, ServerConfig } from 'sunpeak/mcp';

/**
 * Called on every MCP request (but CORS preflights). Returning null answers 401 with
 * `WWW-Authenticate: Bearer`; the returned AuthInfo reaches tool handlers as `extra.authInfo`.
 *
 * - `TRIP_PLANNER_TOKEN` set: clients must send `Authorization: Bearer <that token>`.
 * - `TRIP_PLANNER_TOKEN` unset: demo mode, everyone is let in as "anonymous". Bind to
 *   127.0.0.1 (the demo's default) or set a token before exposing the server.
 */
export async function auth(req: IncomingMessage): Promise<AuthInfo | null> {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
  const expected = process.env.TRIP_PLANNER_TOKEN;
  if (!expected) {
    return { token, clientId: 'anonymous', scopes: [] };
  }
  if (!sameSecret(token, expected)) {
    return null;
  }
  return { token, clientId: 'bearer', scopes: ['trips:read'] };
}

/** Compares two secrets in time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Identity and guidance sent in the MCP `initialize` result. */
export const server: ServerConfig = {
  name: 'trip-planner',
  version: '0.1.0',
  title: 'Trip Planner',
  description: 'Plans short city trips and estimates what they cost.',
  instructions:
    'Use plan-trip to show an itinerary the user can edit; use estimate-budget for costs. ' +
    'The itinerary view reports which stops the user dropped.',
};
