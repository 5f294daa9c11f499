import { describe, expect, it } from '@jest/globals';
import { ProgressTracker } from './progress-tracker.js';

describe('ProgressTracker', () => {
  it('reports rate and eta of this process over the global count', () => {
    let now = 0;
    const tracker = new ProgressTracker(1_000, 200, () => now);
    now = 2_000;
    expect(tracker.update(400)).toEqual({ done: 400, total: 1_000, rate: 100, eta: 6, elapsedMs: 2_000 });
  });

  it('never lets total fall below done and never moves backwards', () => {
    let now = 0;
    const tracker = new ProgressTracker(100, 0, () => now);
    now = 1_000;
    expect(tracker.update(150)).toMatchObject({ done: 150, total: 150, eta: 0 });
    expect(tracker.update(120)).toMatchObject({ done: 150 });
  });

  it('has no eta before any progress', () => {
    const tracker = new ProgressTracker(100, 0, () => 0);
    expect(tracker.snapshot()).toMatchObject({ rate: 0, eta: null });
  });
});
