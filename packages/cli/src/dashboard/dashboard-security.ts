import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header (or form field) carrying the action token. */
export const TOKEN_HEADER = 'x-evolve-token';

/** A fresh action token: 24 random bytes, base64url (32 characters). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * True when `given` equals `token`, compared in constant time: both are hashed with SHA-256 first, so
 * neither their content nor their length leaks through timing. Pure.
 */
export function tokenMatches(token: string, given: string | undefined): boolean {
  if (given === undefined || given.length === 0) return false;
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(token), digest(given));
}

/**
 * True when the request's `Host` names the server as a local client would (`127.0.0.1`, `localhost`,
 * `[::1]` or the bound host, with the port): a page on another origin whose DNS name was rebound to
 * 127.0.0.1 sends its own name and is refused. When an `Origin` header is present it must name the
 * same host. Pure.
 */
export function isLocalRequest(request: IncomingMessage, boundHost: string, port: number): boolean {
  const allowed = new Set(['127.0.0.1', 'localhost', '[::1]', boundHost.includes(':') ? `[${boundHost}]` : boundHost].map((host) => `${host}:${port}`.toLowerCase()));
  const host = (request.headers.host ?? '').toLowerCase();
  if (!allowed.has(host)) return false;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host.toLowerCase() === host;
  } catch {
    return false;
  }
}

/** The header the page's own `fetch` calls send on every `/api/*` request (value `1`). */
export const PAGE_HEADER = 'x-evolve-dashboard';

/**
 * Whether an `/api/*` request comes from the dashboard's own page (or a tool), not from another site.
 * A page elsewhere can make the browser send a GET here with no `Origin` and an allowed `Host`
 * (`<img src="http://127.0.0.1:4545/api/verify">`), which would run the dashboard's queries. So:
 * - when the browser says where the request comes from (`Sec-Fetch-Site`), it must be `same-origin` or
 *   `none` (typed into the address bar, or a tool that sets it); `same-site` and `cross-site` are refused;
 * - every `/api/*` request but the event stream must carry {@link PAGE_HEADER}: another origin cannot send
 *   a custom header without a CORS preflight, which this server never answers. `curl` can, on purpose.
 * `GET /api/events` is exempt from the header (an `EventSource` cannot set one) and relies on the
 * `Sec-Fetch-Site` and `Origin` checks; so are the POST actions, which need the secret token anyway. Pure.
 */
export function isPageRequest(request: IncomingMessage, path: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  if (path === '/api/events' || request.method === 'POST') return true;
  return request.headers[PAGE_HEADER] === '1';
}

/** Headers sent with every response: no framing, no sniffing, no referrer, scripts only from the server. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};
