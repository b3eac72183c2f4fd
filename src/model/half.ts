/** IEEE 754 half-precision conversion: the model folder's weights.bin and the training feature cache store float16. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits (round to nearest even). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) {
    if (((x >>> 23) & 0xff) === 0xff && mant) return sign | 0x7e00; // NaN
    return sign | 0x7c00; // overflow → inf
  }
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - exp);
    if (mant & 0x1000 && (mant & 0x2fff)) mant += 0x2000;
    return sign | (mant >>> 13);
  }
  if (mant & 0x1000 && (mant & 0x2fff)) {
    mant += 0x2000;
    if (mant & 0x800000) {
      mant = 0;
      exp += 1;
      if (exp >= 31) return sign | 0x7c00;
    }
  }
  return sign | (exp << 10) | (mant >>> 13);
}

const table = new Float32Array(65536);
for (let h = 0; h < 65536; h++) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  table[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float16 bits → float32. */
export function fromHalf(bits: number): number {
  return table[bits & 0xffff]!;
}

export function encodeHalf(values: ArrayLike<number>, out: Uint16Array = new Uint16Array(values.length), offset = 0): Uint16Array {
  for (let i = 0; i < values.length; i++) out[offset + i] = toHalf(values[i]!);
  return out;
}

export function decodeHalfInto(bits: Uint16Array, out: Float32Array, outOffset = 0): void {
  for (let i = 0; i < bits.length; i++) out[outOffset + i] = table[bits[i]!]!;
}
