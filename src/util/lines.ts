/**
 * Streaming framing of input files: lines (JSONL, CSV, .dat) and the top-level objects of a JSON
 * array (Spotify exports), read in chunks so a file is never held in memory whole. Both yield
 * batches of {@link Frame}s: the 1-based line the record starts on, its decoded text, and an issue
 * when the record cannot be used as is (a line over the size limit, bytes that are not valid
 * UTF-8, a JSON array cut short).
 */
import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import iconv from 'iconv-lite';

export type FrameIssueCode = 'line_too_long' | 'encoding' | 'truncated' | 'invalid_json';

export interface Frame {
  /** 1-based line of the file where the record starts. */
  line: number;
  /** Decoded text of the record (for `line_too_long`, only its first bytes). */
  text: string;
  issue?: { code: FrameIssueCode; reason: string };
}

/** How to turn bytes into text: strict UTF-8 (bad bytes are an issue), a fixed 8-bit encoding, or UTF-8 falling back to Latin-1 per record. */
export type Encoding = 'utf8' | 'auto' | string;

export interface FrameOptions {
  encoding?: Encoding;
  /** Records longer than this many bytes become a `line_too_long` issue (default 1 MiB). */
  maxRecordBytes?: number;
  /** Read chunk size in bytes (default 1 MiB). */
  chunkBytes?: number;
}

const DEFAULT_MAX = 1 << 20;
const PREVIEW = 200;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Count the encoded U+FFFD (EF BF BD) sequences in `b[s, e)`. */
function countEncodedReplacement(b: Buffer, s: number, e: number): number {
  let n = 0;
  for (let i = b.indexOf(0xef, s); i >= 0 && i + 2 < e; i = b.indexOf(0xef, i + 1)) if (b[i + 1] === 0xbf && b[i + 2] === 0xbd) n++;
  return n;
}

/**
 * Decode `b[s, e)`. UTF-8 bytes that do not decode are reported (strict `utf8`) or the record is
 * decoded as Latin-1 instead (`auto`, which also reports nothing). Any other name goes to iconv-lite.
 */
export function decode(b: Buffer, s: number, e: number, encoding: Encoding): { text: string; issue?: Frame['issue'] } {
  if (encoding !== 'utf8' && encoding !== 'auto') return { text: iconv.decode(b.subarray(s, e), encoding) };
  const text = b.toString('utf8', s, e);
  if (text.indexOf('\ufffd') < 0) return { text };
  let replacements = 0;
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) replacements++;
  if (replacements === countEncodedReplacement(b, s, e)) return { text }; // real U+FFFD characters in the data
  const latin1 = iconv.decode(b.subarray(s, e), 'latin1');
  if (encoding === 'auto') return { text: latin1 };
  let at = 0;
  try {
    fatalUtf8.decode(b.subarray(s, e));
  } catch {
    // locate the first bad byte for the message
    for (let i = s; i < e; i++) {
      const c = b[i];
      const len = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
      let good = len > 0 && i + len <= e;
      for (let k = 1; good && k < len; k++) good = (b[i + k] & 0xc0) === 0x80;
      if (!good) {
        at = i - s;
        break;
      }
      i += len - 1;
    }
  }
  return {
    text: latin1,
    issue: { code: 'encoding', reason: `not valid UTF-8 (byte 0x${b[s + at].toString(16).padStart(2, '0')} at offset ${at}); the file may be Latin-1: re-import with --encoding latin1 or --encoding auto` },
  };
}

/**
 * The file's bytes in chunks: gunzipped when its name ends in `.gz`, so records are the
 * uncompressed text's. A read or gzip error (a missing file, a corrupt stream) rejects the
 * consumer's iteration (pipeline passes it on) instead of leaving it waiting.
 */
function openInput(file: string, chunkBytes: number): Readable {
  const raw = createReadStream(file, { highWaterMark: chunkBytes });
  if (!file.endsWith('.gz')) return raw;
  return pipeline(raw, createGunzip({ chunkSize: Math.max(64, chunkBytes) }), () => {});
}

function tooLong(line: number, bytes: number, max: number, preview: string): Frame {
  return {
    line,
    text: preview,
    issue: { code: 'line_too_long', reason: `record is ${bytes.toLocaleString('en-US')} bytes, over the limit of ${max.toLocaleString('en-US')} (--max-line-bytes)` },
  };
}

/**
 * Lines of a file (gunzipped when its name ends in `.gz`) in batches, without the line ends (LF or
 * CRLF) and without a leading UTF-8 BOM.
 * Blank lines are yielded too (callers skip them) so line numbers stay right. A line longer than
 * `maxRecordBytes` is not kept: its first bytes come back with a `line_too_long` issue.
 */
export async function* readLines(file: string, opts: FrameOptions = {}): AsyncGenerator<Frame[]> {
  const max = opts.maxRecordBytes ?? DEFAULT_MAX;
  const encoding = opts.encoding ?? 'utf8';
  let lineNo = 1;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let overflow = 0; // bytes of the current line dropped because it is too long
  let preview = '';
  let first = true;
  const emit = (out: Frame[], b: Buffer, s: number, e: number) => {
    if (first) {
      first = false;
      if (e - s >= 3 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf) s += 3;
    }
    if (e > s && b[e - 1] === 0x0d) e--;
    const d = decode(b, s, e, encoding);
    out.push(d.issue ? { line: lineNo, text: d.text, issue: d.issue } : { line: lineNo, text: d.text });
  };
  const stream = openInput(file, opts.chunkBytes ?? 1 << 20);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const out: Frame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? chunk.length : nl;
      if (overflow > 0 || carryLen + (end - pos) > max) {
        if (overflow === 0) preview = Buffer.concat([...carry, chunk.subarray(pos, Math.min(end, pos + PREVIEW))]).subarray(0, PREVIEW).toString('utf8');
        overflow += carryLen + (end - pos);
        carry = [];
        carryLen = 0;
        if (nl >= 0) {
          out.push(tooLong(lineNo, overflow, max, preview));
          first = false;
          overflow = 0;
          lineNo++;
        }
      } else if (nl < 0) {
        carry.push(Buffer.from(chunk.subarray(pos))); // copy: the stream may reuse its buffer
        carryLen += chunk.length - pos;
      } else if (carryLen > 0) {
        carry.push(chunk.subarray(pos, end));
        const whole = Buffer.concat(carry, carryLen + end - pos);
        carry = [];
        carryLen = 0;
        emit(out, whole, 0, whole.length);
        lineNo++;
      } else {
        emit(out, chunk, pos, end);
        lineNo++;
      }
      pos = nl < 0 ? chunk.length : nl + 1;
    }
    if (out.length) yield out;
  }
  if (overflow > 0) yield [tooLong(lineNo, overflow, max, preview)];
  else if (carryLen > 0) {
    const out: Frame[] = [];
    const whole = Buffer.concat(carry, carryLen);
    emit(out, whole, 0, whole.length);
    yield out;
  }
}

/**
 * The top-level values of a JSON array file (`[{…},{…}]`), each as its own text with the line it
 * starts on, scanned byte by byte (JSON's structural characters are ASCII, so multi-byte UTF-8
 * never confuses the scan). A file cut short yields the complete objects before the break and then
 * one `truncated` issue naming the line where the unfinished object starts. A file that is not an
 * array yields one `invalid_json` issue.
 */
export async function* readJsonArray(file: string, opts: FrameOptions = {}): AsyncGenerator<Frame[]> {
  const max = opts.maxRecordBytes ?? DEFAULT_MAX;
  const encoding = opts.encoding ?? 'utf8';
  let lineNo = 1;
  let state: 'start' | 'between' | 'value' | 'done' = 'start';
  let depth = 0;
  let inString = false;
  let escape = false;
  let startLine = 0;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let overflow = 0;
  let preview = '';
  let sawBom = false;
  let bytesSeen = 0;
  const stream = openInput(file, opts.chunkBytes ?? 1 << 20);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const out: Frame[] = [];
    let i = 0;
    if (!sawBom && bytesSeen === 0 && chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    sawBom = true;
    bytesSeen += chunk.length;
    let valueStart = state === 'value' ? 0 : -1;
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 10) lineNo++;
      if (state === 'value') {
        if (inString) {
          if (escape) escape = false;
          else if (c === 0x5c) escape = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) {
            const piece = chunk.subarray(valueStart, i + 1);
            const total = overflow + carryLen + piece.length;
            if (overflow > 0 || total > max) out.push(tooLong(startLine, total, max, preview || Buffer.concat([...carry, piece]).subarray(0, PREVIEW).toString('utf8')));
            else {
              const whole = carryLen ? Buffer.concat([...carry, piece]) : piece;
              const d = decode(whole, 0, whole.length, encoding);
              out.push(d.issue ? { line: startLine, text: d.text, issue: d.issue } : { line: startLine, text: d.text });
            }
            carry = [];
            carryLen = 0;
            overflow = 0;
            preview = '';
            state = 'between';
            valueStart = -1;
          }
        }
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (state === 'start') {
        if (c === 0x5b) state = 'between';
        else {
          out.push({ line: lineNo, text: '', issue: { code: 'invalid_json', reason: `expected a JSON array starting with "[", found "${String.fromCharCode(c)}"` } });
          state = 'done';
          yield out;
          stream.destroy();
          return;
        }
      } else if (state === 'between') {
        if (c === 0x2c) continue;
        if (c === 0x5d) {
          state = 'done';
          continue;
        }
        if (c === 0x7b) {
          state = 'value';
          startLine = lineNo;
          valueStart = i;
          depth = 1;
        } else {
          out.push({ line: lineNo, text: '', issue: { code: 'invalid_json', reason: 'expected an object as each element of the array' } });
          state = 'done';
          yield out;
          stream.destroy();
          return;
        }
      }
      // state 'done': trailing whitespace is fine, anything else is ignored
    }
    if (state === 'value' && valueStart >= 0) {
      const piece = chunk.subarray(valueStart);
      if (overflow > 0 || carryLen + piece.length > max) {
        if (!preview) preview = Buffer.concat([...carry, piece]).subarray(0, PREVIEW).toString('utf8');
        overflow += carryLen + piece.length;
        carry = [];
        carryLen = 0;
      } else {
        carry.push(Buffer.from(piece)); // copy: the stream may reuse the chunk
        carryLen += piece.length;
      }
    }
    if (out.length) yield out;
  }
  if (state === 'value') {
    yield [{ line: startLine, text: '', issue: { code: 'truncated', reason: `the file ends inside the object that starts here (truncated JSON); the objects before it were read` } }];
  } else if (state === 'start') {
    // an empty file: nothing to read
  } else if (state === 'between') {
    yield [{ line: lineNo, text: '', issue: { code: 'truncated', reason: 'the file ends before the closing "]" of the array (truncated JSON); every object before it was read' } }];
  }
}

/** `array` when the file's first non-blank byte is `[`, `lines` otherwise (JSONL), `empty` for no content. */
export async function sniffJson(file: string): Promise<'array' | 'lines' | 'empty'> {
  const stream = createReadStream(file, { start: 0, end: 64 * 1024 - 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xef || c === 0xbb || c === 0xbf) continue;
      stream.destroy();
      return c === 0x5b ? 'array' : 'lines';
    }
  }
  return 'empty';
}
