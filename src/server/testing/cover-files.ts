/**
 * Audio files carrying cover art, written by tests: an ID3v2.3 tag with an APIC frame (inside a
 * WAV's `id3 ` chunk, as WAV files carry ID3 tags) and a FLAC stream with a PICTURE block.
 */
import { encodeWav } from '../../generate/index.ts';

/** A 1×1 PNG. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');

const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const syncsafe = (n: number) => Buffer.from([(n >>> 21) & 127, (n >>> 14) & 127, (n >>> 7) & 127, n & 127]);

/** An ID3v2.3 tag with one APIC frame (front cover) holding `image` of type `mime`. */
export function id3WithPicture(image: Buffer, mime: string): Buffer {
  const body = Buffer.concat([Buffer.from([0]), Buffer.from(`${mime}\0`, 'latin1'), Buffer.from([3]), Buffer.from('\0', 'latin1'), image]);
  const frame = Buffer.concat([Buffer.from('APIC', 'latin1'), u32(body.length), Buffer.from([0, 0]), body]);
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([3, 0, 0]), syncsafe(frame.length), frame]);
}

/** A short WAV with `tag` as its `id3 ` chunk (how WAV files carry ID3 tags). */
export function wavWithTag(tag?: Buffer, wav: Buffer = encodeWav(new Float32Array(2_205).fill(0.1), 22_050)): Buffer {
  if (!tag) return wav;
  const pad = tag.length % 2 ? Buffer.from([0]) : Buffer.alloc(0);
  const chunk = Buffer.concat([Buffer.from('id3 ', 'latin1'), Buffer.from(new Uint32Array([tag.length]).buffer), tag, pad]);
  const out = Buffer.concat([wav, chunk]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

/** A FLAC stream's metadata: STREAMINFO, then a PICTURE block (front cover) holding `image`; no audio frames. */
export function flacWithPicture(image: Buffer, mime: string): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  // 20 bits sample rate (44 100), 3 bits channels − 1 (0), 5 bits bits per sample − 1 (15), 36 bits samples (0)
  const packed = (44_100n << 44n) | (0n << 41n) | (15n << 36n);
  info.writeBigUInt64BE(packed, 10);
  const pic = Buffer.concat([u32(3), u32(mime.length), Buffer.from(mime, 'latin1'), u32(0), u32(1), u32(1), u32(24), u32(0), u32(image.length), image]);
  const header = (last: boolean, type: number, len: number) => Buffer.from([(last ? 0x80 : 0) | type, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]);
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), header(false, 0, 34), info, header(true, 6, pic.length), pic]);
}
