import { describe, expect, it } from '@jest/globals';
import { DatabaseError } from '../errors.js';
import { isRetryable, retryDelayMs, sleep, sqlStateOf } from './retry-policy.js';

describe('retry policy', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('retries lock timeouts, deadlocks, serialization failures and statement timeouts only', () => {
    for (const code of ['55P03', '40P01', '40001', '57014']) expect(isRetryable({ code })).toBe(true);
    for (const code of ['22012', '23505', '42703', 'ECONNREFUSED']) expect(isRetryable({ code })).toBe(false);
    expect(isRetryable(new Error('no code'))).toBe(false);
  });

  it('reads the sqlstate through wrappers', () => {
    const wrapped = new DatabaseError('select 1', [], Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(sqlStateOf(wrapped)).toBe('40P01');
    expect(sqlStateOf(new Error('outer', { cause: { code: '55P03' } }))).toBe('55P03');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(50);
    expect(retryDelayMs(1, policy, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, () => 1)).toBe(1_000);
    expect(retryDelayMs(10, policy, () => 0)).toBe(500);
  });

  it('sleep ends early when its signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort();
    await pending;
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
