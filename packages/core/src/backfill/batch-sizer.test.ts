import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../errors.js';
import { BatchSizer, validateBatchSizing } from './batch-sizer.js';

describe('BatchSizer', () => {
  const sizing = { initial: 1_000, min: 100, max: 10_000, targetMs: 200 };

  it('grows by at most x1.2 per fast batch, up to max', () => {
    const sizer = new BatchSizer(sizing);
    const sizes = [sizer.current];
    for (let i = 0; i < 40; i += 1) sizes.push(sizer.recordSuccess(sizer.current, 1));
    for (let i = 1; i < sizes.length; i += 1) expect(sizes[i]).toBeLessThanOrEqual((sizes[i - 1] ?? 0) * 1.2);
    expect(sizes[1]).toBe(1_200);
    expect(sizes.at(-1)).toBe(10_000);
  });

  it('steers toward the target duration and shrinks by at most half per slow batch', () => {
    const sizer = new BatchSizer(sizing);
    expect(sizer.recordSuccess(1_000, 250)).toBe(800);
    expect(sizer.recordSuccess(800, 10_000)).toBe(400);
    expect(sizer.recordSuccess(400, 200)).toBe(400);
  });

  it('halves on a failed batch, never below min', () => {
    const sizer = new BatchSizer(sizing);
    expect(sizer.recordFailure()).toBe(500);
    expect(sizer.recordFailure()).toBe(250);
    expect(sizer.recordFailure()).toBe(125);
    expect(sizer.recordFailure()).toBe(100);
  });

  it('does not grow after a short (end of range) batch', () => {
    const sizer = new BatchSizer(sizing);
    expect(sizer.recordSuccess(10, 1)).toBe(1_000);
  });

  it('lets a tiny size grow by one row', () => {
    const sizer = new BatchSizer({ initial: 1, min: 1, max: 10, targetMs: 100 });
    expect(sizer.recordSuccess(1, 1)).toBe(2);
  });

  it('rejects inconsistent bounds, naming the field', () => {
    expect(() => validateBatchSizing({ ...sizing, max: 50 })).toThrow(InvalidArgumentError);
    expect(() => validateBatchSizing({ ...sizing, max: 50 })).toThrow('"batch.max"');
    expect(() => validateBatchSizing({ ...sizing, initial: 20_000 })).toThrow('"batch.initial"');
    expect(() => validateBatchSizing({ ...sizing, min: 0 })).toThrow('"batch.min"');
    expect(() => validateBatchSizing({ ...sizing, targetMs: 0 })).toThrow('"batch.targetMs"');
  });
});
