import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { isLocalRequest, newToken, tokenMatches } from './dashboard-security.js';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

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
});
