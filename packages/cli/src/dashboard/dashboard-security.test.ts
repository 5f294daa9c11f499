import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { isLocalRequest, isPageRequest, newToken, tokenMatches } from './dashboard-security.js';

const request = (headers: Record<string, string>, method = 'GET') => ({ headers, method }) as unknown as IncomingMessage;

describe('dashboard security', () => {
  it('makes long random tokens and compares them exactly', () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newToken()).not.toBe(token);
    expect(tokenMatches(token, token)).toBe(true);
    expect(tokenMatches(token, `${token}x`)).toBe(false);
    expect(tokenMatches(token, token.slice(1))).toBe(false);
    expect(tokenMatches(token, '')).toBe(false);
    expect(tokenMatches(token, undefined)).toBe(false);
  });

  it('answers only requests addressed to its own host and port (no DNS rebinding, no foreign origin)', () => {
    expect(isLocalRequest(request({ host: '127.0.0.1:4545' }), '127.0.0.1', 4545)).toBe(true);
    expect(isLocalRequest(request({ host: 'localhost:4545', origin: 'http://localhost:4545' }), '127.0.0.1', 4545)).toBe(true);
    expect(isLocalRequest(request({ host: 'attacker.example:4545' }), '127.0.0.1', 4545)).toBe(false);
    expect(isLocalRequest(request({ host: '127.0.0.1:4546' }), '127.0.0.1', 4545)).toBe(false);
    expect(isLocalRequest(request({ host: '127.0.0.1:4545', origin: 'http://attacker.example' }), '127.0.0.1', 4545)).toBe(false);
    expect(isLocalRequest(request({ host: '127.0.0.1:4545', origin: 'null' }), '127.0.0.1', 4545)).toBe(false);
    expect(isLocalRequest(request({ host: '10.0.0.5:4545' }), '10.0.0.5', 4545)).toBe(true);
    expect(isLocalRequest(request({}), '127.0.0.1', 4545)).toBe(false);
  });

  it('answers API reads only from its own page: a cross-site request is refused, the page\'s own fetch accepted', () => {
    const page = { host: '127.0.0.1:4545', 'x-evolve-dashboard': '1' };
    // The page's own fetch (dashboard.js sends the header; the browser says same-origin).
    expect(isPageRequest(request({ ...page, 'sec-fetch-site': 'same-origin' }), '/api/verify')).toBe(true);
    // A tool (curl) sends no Sec-Fetch-Site; with the header it may read.
    expect(isPageRequest(request(page), '/api/status')).toBe(true);
    // <img src="http://127.0.0.1:4545/api/verify"> on another site: no custom header, cross-site.
    expect(isPageRequest(request({ host: '127.0.0.1:4545', 'sec-fetch-site': 'cross-site' }), '/api/verify')).toBe(false);
    // The same from an old browser that sends no Sec-Fetch-Site: still no custom header.
    expect(isPageRequest(request({ host: '127.0.0.1:4545' }), '/api/verify')).toBe(false);
    expect(isPageRequest(request({ ...page, 'sec-fetch-site': 'cross-site' }), '/api/verify')).toBe(false);
    expect(isPageRequest(request({ ...page, 'sec-fetch-site': 'same-site' }), '/api/dead-letters')).toBe(false);
    // The event stream (EventSource sets no header): same-origin or no Sec-Fetch-Site only.
    expect(isPageRequest(request({ host: '127.0.0.1:4545', 'sec-fetch-site': 'same-origin' }), '/api/events')).toBe(true);
    expect(isPageRequest(request({ host: '127.0.0.1:4545', 'sec-fetch-site': 'cross-site' }), '/api/events')).toBe(false);
    // Actions need the token instead; a cross-site POST is refused before it is even read.
    expect(isPageRequest(request({ host: '127.0.0.1:4545', 'sec-fetch-site': 'cross-site' }, 'POST'), '/api/steps/a/b/pause')).toBe(false);
    expect(isPageRequest(request({ host: '127.0.0.1:4545' }, 'POST'), '/api/steps/a/b/pause')).toBe(true);
  });
});
