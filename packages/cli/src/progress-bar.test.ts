import { describe, expect, it } from '@jest/globals';
import { formatDuration, formatProgress, ProgressBar } from './progress-bar.js';

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

  it('in a log, done() does not repeat the line already printed for the same count, and does print an unprinted final state', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar('x', stream);
    bar.update({ done: 10, total: 10, rate: 5, eta: 0, elapsedMs: 1 });
    bar.update({ done: 10, total: 10, rate: 4, eta: 0, elapsedMs: 2 }); // within the log interval: not printed
    bar.done();
    expect(lines).toHaveLength(1);
    const second = new ProgressBar('y', stream);
    second.update({ done: 1, total: 10, rate: 5, eta: 2, elapsedMs: 1 });
    second.update({ done: 10, total: 10, rate: 5, eta: 0, elapsedMs: 2 });
    second.done();
    expect(lines.slice(1).map((l) => l.includes('100.0%'))).toEqual([false, true]);
  });
});
