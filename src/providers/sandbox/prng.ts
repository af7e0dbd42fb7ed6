import { createHash } from 'node:crypto';

/**
 * Deterministic randomness for the sandbox banks: the same seed gives the same data on every
 * machine and every run. Nothing here is for secrets.
 */

/** MurmurHash3's 32-bit finaliser: a bijection on uint32, so distinct inputs give distinct outputs. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines a seed with a number (a day, a month, an index) into a new well-mixed seed. */
export function subSeed(seed: number, value: number): number {
  return mix32(seed ^ mix32(Math.imul(value, 0x9e3779b1) + 0x7f4a7c15));
}

/** A uniform number in [0, 1) from a seed, without a generator. */
export function unitFromSeed(seed: number): number {
  return mix32(seed) / 4294967296;
}

/** SHA-256 of the parts, joined by NUL: for ids and seeds derived from names. */
export function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('\0')).digest();
}

/**
 * mulberry32: a tiny, fast generator with a 32-bit state. One instance is reseeded per day of
 * generated data, so no generator is allocated per transaction.
 */
export class Rng {
  private state = 0;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  reseed(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A whole number in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}
