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

  it('reads sqlState before code, only 5-character codes, and at most five wrappers deep', () => {
    expect(sqlStateOf({ sqlState: '40001', code: '55P03' })).toBe('40001');
    expect(sqlStateOf({ code: 'ECONNREFUSED' })).toBeUndefined();
    expect(sqlStateOf({ code: 'x40P01' })).toBeUndefined();
    expect(sqlStateOf({ code: '40P01x' })).toBeUndefined();
    expect(sqlStateOf({ code: 40001 })).toBeUndefined();
    expect(sqlStateOf({ sqlState: 40001, cause: { code: '40001' } })).toBe('40001');
    const nest = (depth: number): unknown => (depth === 0 ? { code: '40P01' } : { cause: nest(depth - 1) });
    expect(sqlStateOf(nest(4))).toBe('40P01'); // the fifth object
    expect(sqlStateOf(nest(5))).toBeUndefined(); // the sixth: too deep
    expect(sqlStateOf(null)).toBeUndefined();
    expect(sqlStateOf('40P01')).toBeUndefined();
    expect(isRetryable({ code: '23505' })).toBe(false);
    expect(isRetryable({})).toBe(false);
  });

  it('the default policy: 6 attempts, 100 ms doubling up to 5 s', async () => {
    const { DEFAULT_RETRY_POLICY } = await import('./retry-policy.js');
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 });
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(50);
    expect(retryDelayMs(1, policy, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, () => 1)).toBe(1_000);
    expect(retryDelayMs(10, policy, () => 0)).toBe(500);
  });

  it('sleep waits its time, returns at once for 0 ms or an aborted signal, and lets go of the signal', async () => {
    const slept = performance.now();
    await sleep(30);
    expect(performance.now() - slept).toBeGreaterThanOrEqual(25);
    const zero = performance.now();
    await sleep(0);
    await sleep(-5);
    const aborted = new AbortController();
    aborted.abort();
    await sleep(10_000, aborted.signal);
    expect(performance.now() - zero).toBeLessThan(1_000);
    const listening = new AbortController();
    const added: string[] = [];
    const removed: string[] = [];
    const signal = listening.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    type Listener = Parameters<typeof add>[1];
    signal.addEventListener = ((type: string, listener: Listener, options?: { once?: boolean }) => (added.push(`${type}:${options?.once === true}`), add(type, listener, options))) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, listener: Listener) => (removed.push(type), remove(type, listener))) as typeof signal.removeEventListener;
    await sleep(5, signal);
    expect(added).toEqual(['abort:true']);
    expect(removed).toEqual(['abort']);
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
