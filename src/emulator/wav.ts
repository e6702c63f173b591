/**
 * The audio the emulator serves as a recording: a RIFF/WAVE file of 16 kHz
 * 16-bit mono PCM (the format Graph's clips appear to use), holding a quiet
 * tone with a little noise so a bot can measure its length and loudness.
 * Produced chunk by chunk: a five-minute clip never sits in memory at once.
 */

export const SAMPLE_RATE = 16_000;
export const BYTES_PER_SAMPLE = 2;
export const BYTES_PER_SECOND = SAMPLE_RATE * BYTES_PER_SAMPLE;
export const WAV_HEADER_BYTES = 44;
/** Peak amplitude of the tone: -20 dBFS. */
const AMPLITUDE = 0.1 * 32767;
const NOISE = 0.01 * 32767;
const TONE_HZ = 440;
/** Half a second per chunk. */
const CHUNK_SAMPLES = SAMPLE_RATE / 2;

/** PCM bytes for `seconds` of audio (whole samples). */
export function pcmBytes(seconds: number): number {
  return Math.max(0, Math.round(seconds * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
}

export function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(BYTES_PER_SECOND, 28); // byte rate
  h.writeUInt16LE(BYTES_PER_SAMPLE, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** The whole file, header first, in chunks of at most half a second. */
export function* wavChunks(seconds: number): Generator<Buffer> {
  const total = pcmBytes(seconds) / BYTES_PER_SAMPLE;
  yield wavHeader(total * BYTES_PER_SAMPLE);
  let noise = 0x2545f491;
  for (let start = 0; start < total; start += CHUNK_SAMPLES) {
    const n = Math.min(CHUNK_SAMPLES, total - start);
    const chunk = Buffer.allocUnsafe(n * BYTES_PER_SAMPLE);
    for (let i = 0; i < n; i++) {
      // xorshift noise: deterministic, so two downloads of a clip are identical.
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const t = (start + i) / SAMPLE_RATE;
      const v = AMPLITUDE * Math.sin(2 * Math.PI * TONE_HZ * t) + NOISE * ((noise >>> 0) / 4294967296 - 0.5);
      chunk.writeInt16LE(Math.round(v), i * BYTES_PER_SAMPLE);
    }
    yield chunk;
  }
}
