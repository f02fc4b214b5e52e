/**
 * Cover art embedded in audio files — ID3v2 APIC frames (MP3, and WAV/AIFF `id3 ` chunks), FLAC
 * PICTURE blocks, MP4 `covr` atoms, Vorbis METADATA_BLOCK_PICTURE — read with `music-metadata`
 * (pure JavaScript, loaded on the first cover asked for) and kept in memory: an answer per file,
 * the files without art remembered too, the oldest dropped past `maxEntries` or `maxBytes`.
 */
import { createHash } from 'node:crypto';

/** An embedded picture as served: its media type, bytes and a strong ETag of the bytes. */
export interface CoverArt {
  type: string;
  data: Buffer;
  etag: string;
}

/** The picture type music-metadata names for a front cover (ID3v2 and FLAC picture type 3). */
const FRONT = 'Cover (front)';

export class CoverCache {
  private readonly cache = new Map<string, CoverArt | null>();
  private bytes = 0;

  constructor(private readonly maxEntries = 2_000, private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The cover embedded in `file` (the front cover when several), or null when the file carries none or cannot be read. */
  async of(file: string): Promise<CoverArt | null> {
    if (this.cache.has(file)) {
      const hit = this.cache.get(file)!;
      // most recently used last
      this.cache.delete(file);
      this.cache.set(file, hit);
      return hit;
    }
    const art = await readCover(file);
    this.cache.set(file, art);
    this.bytes += art?.data.length ?? 0;
    while (this.cache.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [oldest, v] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.bytes -= v?.data.length ?? 0;
    }
    return art;
  }
}

/** Read the front cover (else the first picture) embedded in `file`; null when none or unreadable. */
export async function readCover(file: string): Promise<CoverArt | null> {
  const { parseFile } = await import('music-metadata');
  // not an audio file music-metadata knows, or a damaged one: no cover, the app draws a tile
  const pictures = await parseFile(file, { duration: false, skipCovers: false, skipPostHeaders: true }).then((m) => m.common.picture, () => undefined);
  if (!pictures?.length) return null;
  const p = pictures.find((x) => x.type === FRONT) ?? pictures[0];
  const data = Buffer.from(p.data);
  const type = /^image\/[\w.+-]+$/.test(p.format) ? p.format : sniff(data);
  if (!type) return null;
  return { type, data, etag: `"${createHash('sha1').update(data).digest('base64url')}"` };
}

/** The image type of `data` by its magic bytes (for pictures whose stored MIME type is missing or not a full one, such as "PNG"). */
function sniff(data: Buffer): string | null {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (data.subarray(0, 3).toString('latin1') === 'GIF') return 'image/gif';
  return null;
}
