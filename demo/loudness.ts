/** RMS loudness of a 16-bit PCM WAV clip in dBFS, read as a stream (never the whole clip in memory). */
import type { Clip } from '../src/index.js';

export async function loudness(clip: Clip): Promise<number> {
  const wav = clip.wav;
  if (wav?.bitsPerSample !== 16) return Number.NaN;
  let skip = wav.dataOffset;
  let sumSquares = 0;
  let samples = 0;
  let carry: Buffer | undefined;
  for await (const chunk of clip.open()) {
    let b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (skip > 0) {
      const n = Math.min(skip, b.length);
      skip -= n;
      b = b.subarray(n);
    }
    if (carry) {
      b = Buffer.concat([carry, b]);
      carry = undefined;
    }
    const even = b.length - (b.length % 2);
    for (let i = 0; i < even; i += 2) {
      const s = b.readInt16LE(i) / 32768;
      sumSquares += s * s;
      samples++;
    }
    if (even < b.length) carry = b.subarray(even);
  }
  if (samples === 0) return Number.NEGATIVE_INFINITY;
  return 10 * Math.log10(sumSquares / samples);
}
