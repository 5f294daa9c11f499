/**
 * A small seeded PRNG (sfc32) with the helpers the legacy generator needs. Deterministic across
 * platforms and Node versions: only 32-bit integer arithmetic, no Math.random.
 */
export class RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` and `stream` (e.g. a table name) give independent sequences per table. */
  constructor(seed: number, stream: string) {
    let h = 1779033703 ^ stream.length;
    for (let i = 0; i < stream.length; i += 1) {
      h = Math.imul(h ^ stream.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    this.a = seed >>> 0;
    this.b = h >>> 0;
    this.c = (seed ^ 0x9e3779b9) >>> 0;
    this.d = (h ^ 0x85ebca6b) >>> 0;
    for (let i = 0; i < 15; i += 1) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }
}
