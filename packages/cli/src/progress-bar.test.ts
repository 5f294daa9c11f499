import { describe, expect, it } from '@jest/globals';
import { formatDuration, formatProgress } from './progress-bar.js';

describe('progress bar', () => {
  it('renders ratio, counts, rate and eta', () => {
    expect(formatProgress('b', { done: 452_000, total: 1_000_000, rate: 120_345.4, eta: 4.4, elapsedMs: 1 })).toBe(
      'b [##############................]  45.2%  452,000/1,000,000 rows  120,345 rows/s  eta 4s',
    );
  });

  it('handles an unknown eta and an empty table', () => {
    expect(formatProgress('b', { done: 0, total: 0, rate: 0, eta: null, elapsedMs: 0 })).toContain('100.0%  0/0 rows  0 rows/s  eta ?');
  });

  it('formats durations', () => {
    expect(formatDuration(12)).toBe('12s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3_720)).toBe('1h02m');
  });
});
