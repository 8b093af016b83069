// A small deterministic PRNG for the interaction generator: strings are hashed to 128 bits, which
// seed an sfc32 generator (32-bit "small fast counting" generator). No Math.random anywhere.

export type Seed128 = readonly [number, number, number, number];

function avalanche(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash a string to four 32-bit words (four multiplicative lanes with cross-lane mixing). */
export function hash128(text: string): Seed128 {
  let a = 0x243f6a88, b = 0x85a308d3, c = 0x13198a2e, d = 0x03707344;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    a = Math.imul(a ^ k, 0x01000193) + (d >>> 7);
    b = Math.imul(b ^ k, 0x9e3779b1) + (a >>> 11);
    c = Math.imul(c ^ k, 0x85ebca77) + (b >>> 5);
    d = Math.imul(d ^ k, 0xc2b2ae3d) + (c >>> 13);
  }
  const n = text.length;
  a = avalanche(a ^ n);
  b = avalanche(b ^ a);
  c = avalanche(c ^ b);
  d = avalanche(d ^ c);
  return [a, b, c, d];
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex32 = (x: number): string =>
  HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Seed128) {
    [this.a, this.b, this.c, this.d] = seed;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A generator seeded from the joined parts. */
  static of(...parts: (string | number)[]): Rng {
    return new Rng(hash128(parts.join('\u001f')));
  }

  /** A generator derived from a hashed seed and two integers, without building strings. */
  static derive(seed: Seed128, x: number, y: number): Rng {
    return new Rng([
      avalanche(seed[0] ^ (x | 0)),
      avalanche(seed[1] ^ Math.imul(y + 1, 0x9e3779b9)),
      avalanche(seed[2] + Math.floor(x / 4294967296)),
      seed[3],
    ]);
  }

  /** Next uniform 32-bit unsigned integer (sfc32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Index drawn from cumulative weights (last entry is the total). */
  weighted(cumulative: readonly number[]): number {
    const x = this.float() * cumulative[cumulative.length - 1]!;
    let i = 0;
    while (i < cumulative.length - 1 && x >= cumulative[i]!) i++;
    return i;
  }

  /** A random (version 4 layout) GUID. */
  guid(): string {
    const a = this.u32(), b = this.u32(), c = this.u32(), d = this.u32();
    const h = hex32(b), l = hex32(c);
    return `${hex32(a)}-${h.slice(0, 4)}-4${h.slice(5, 8)}-${HEX[0x80 | (c >>> 24 & 0x3f)]}${l.slice(2, 4)}-${l.slice(4)}${hex32(d)}`;
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) s += hex32(this.u32());
    return s.slice(0, n);
  }

  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.float() * alphabet.length)];
    return s;
  }
}
