import { describe, expect, it } from '@jest/globals';
import { RandomSource } from './random-source.js';

describe('RandomSource', () => {
  it('is deterministic per (seed, stream) and differs across streams and seeds', () => {
    const draw = (seed: number, stream: string) => {
      const rng = new RandomSource(seed, stream);
      return Array.from({ length: 5 }, () => rng.next());
    };
    expect(draw(1, 'User')).toEqual(draw(1, 'User'));
    expect(draw(1, 'User')).not.toEqual(draw(1, 'Booking'));
    expect(draw(1, 'User')).not.toEqual(draw(2, 'User'));
  });

  it('keeps int() within bounds and weighted() close to its weights', () => {
    const rng = new RandomSource(9, 'bounds');
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 20_000; i += 1) {
      const value = rng.int(3, 5);
      expect(value).toBeGreaterThanOrEqual(3);
      expect(value).toBeLessThanOrEqual(5);
      counts[rng.weighted({ a: 3, b: 1 })] += 1;
    }
    expect(counts.a / 20_000).toBeGreaterThan(0.72);
    expect(counts.a / 20_000).toBeLessThan(0.78);
  });
});
