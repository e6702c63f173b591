/**
 * Reads the RIFF/WAVE header of a downloaded clip. Graph does not document
 * the format; the evidence points at 16 kHz 16-bit mono PCM, so we read what
 * the header says instead of assuming it, and report nothing when it is not WAV.
 */

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  dataBytes: number;
  durationSeconds: number;
  /** Byte offset of the PCM data. */
  dataOffset: number;
}

/** Parse the header from the first bytes of a clip (the first 4 KB is plenty). */
export function parseWavHeader(head: Uint8Array, totalBytes?: number): WavInfo | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE')
    return undefined;
  let off = 12;
  let fmt: { channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ' && body + 16 <= b.length) {
      fmt = {
        channels: b.readUInt16LE(body + 2),
        sampleRate: b.readUInt32LE(body + 4),
        bitsPerSample: b.readUInt16LE(body + 14),
      };
    } else if (id === 'data' && fmt) {
      // Streams written before their length was known may carry 0 or 0xFFFFFFFF: trust the byte count then.
      const known =
        totalBytes === undefined ? size : Math.min(size || Number.POSITIVE_INFINITY, totalBytes - body);
      const dataBytes = Number.isFinite(known) ? known : 0;
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return {
        ...fmt,
        dataBytes,
        dataOffset: body,
        durationSeconds: bytesPerSecond > 0 ? dataBytes / bytesPerSecond : 0,
      };
    }
    off = body + size + (size % 2);
  }
  return undefined;
}
