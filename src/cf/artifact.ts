/**
 * Self-describing, versioned model files (after spotify/voyager's Metadata): every file says what
 * it is, and the loader names each mismatch instead of reading garbage.
 *
 * Layout (little-endian):
 *   0   8 bytes  magic "DEEPCUT\x00"
 *   8   u32      format version ({@link FORMAT_VERSION})
 *   12  u32      header length H (bytes of UTF-8 JSON)
 *   16  H bytes  header JSON: kind, runId, createdAt, metric, params, arrays [{name, dtype, shape, offset}]
 *   …   arrays, each at a 16-byte aligned offset from the start of the file
 *   end u32      CRC-32 of every byte before it
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { DeepcutError } from '../errors.ts';
import { stampNow } from '../core/clock.ts';

export const MAGIC = Buffer.from('DEEPCUT\x00', 'latin1');
export const FORMAT_VERSION = 1;

export type Dtype = 'f32' | 'i32';
type TypedArray = Float32Array | Int32Array;

export interface ArrayEntry {
  name: string;
  dtype: Dtype;
  /** Row-major shape; the element count is the product. */
  shape: number[];
  offset: number;
}

export interface ArtifactHeader {
  /** What the file holds: `als`, `itemknn`, `ann-index`… */
  kind: string;
  runId: string;
  createdAt: string;
  /** How scores are computed from the arrays: `inner_product`, `cosine`. */
  metric: string;
  /** Model parameters (factors, regularization, solver…), numbers and strings only. */
  params: Record<string, number | string>;
  arrays: ArrayEntry[];
}

export interface Artifact {
  header: ArtifactHeader;
  arrays: Record<string, TypedArray>;
}

/** What a loader expects; every field given is checked and a mismatch named. */
export interface Expect {
  kind?: string;
  metric?: string;
  runId?: string;
  /** Expected shape per array name. */
  shapes?: Record<string, number[]>;
  params?: Record<string, number | string>;
}

const dtypeBytes: Record<Dtype, number> = { f32: 4, i32: 4 };

/** Write `arrays` with their header to `path` (via a temporary file, renamed when complete). */
export async function writeArtifact(path: string, h: Omit<ArtifactHeader, 'arrays' | 'createdAt'>, arrays: { name: string; data: TypedArray; shape: number[] }[]): Promise<void> {
  const entries: ArrayEntry[] = arrays.map((a) => ({ name: a.name, dtype: a.data instanceof Float32Array ? 'f32' : 'i32', shape: a.shape, offset: 0 }));
  for (const a of arrays) {
    const n = a.shape.reduce((x, y) => x * y, 1);
    if (n !== a.data.length) throw new Error(`array ${a.name}: shape ${a.shape.join('×')} does not match ${a.data.length} elements`);
  }
  // offsets depend on the header length, which depends on the offsets' digits: iterate to a fixed point
  let json = '';
  for (let pass = 0; pass < 4; pass++) {
    json = JSON.stringify({ ...h, createdAt: stampNow(), arrays: entries });
    let off = align(16 + Buffer.byteLength(json));
    for (let i = 0; i < arrays.length; i++) {
      entries[i].offset = off;
      off = align(off + arrays[i].data.byteLength);
    }
    const again = JSON.stringify({ ...JSON.parse(json), arrays: entries });
    if (Buffer.byteLength(again) === Buffer.byteLength(json)) {
      json = again;
      break;
    }
  }
  const hb = Buffer.from(json);
  const last = arrays.length ? entries[arrays.length - 1].offset + arrays[arrays.length - 1].data.byteLength : 16 + hb.length;
  const buf = Buffer.alloc(align(last) + 4);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(hb.length, 12);
  hb.copy(buf, 16);
  arrays.forEach((a, i) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).copy(buf, entries[i].offset));
  buf.writeUInt32LE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, buf);
  await rename(tmp, path);
}

/** Read and check an artifact; DeepcutError('invalid_input') naming the file and the first mismatch. */
export async function readArtifact(path: string, expect: Expect = {}): Promise<Artifact> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DeepcutError('not_found', `model file ${path} cannot be read: ${(e as Error).message}`, {}, { cause: e });
  }
  const bad = (what: string) => new DeepcutError('invalid_input', `${path}: ${what}`);
  if (buf.length < 20 || !buf.subarray(0, 8).equals(MAGIC)) throw bad('not a deepcut model file (bad magic)');
  const version = buf.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw bad(`format version ${version}, this deepcut reads version ${FORMAT_VERSION}`);
  const stored = buf.readUInt32LE(buf.length - 4);
  const actual = crc32(buf.subarray(0, buf.length - 4));
  if (stored !== actual) throw bad(`checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt or truncated`);
  const hl = buf.readUInt32LE(12);
  let header: ArtifactHeader;
  try {
    header = JSON.parse(buf.subarray(16, 16 + hl).toString('utf8')) as ArtifactHeader;
  } catch {
    throw bad('header is not valid JSON');
  }
  const mismatch = (field: string, want: unknown, got: unknown) => bad(`${field} mismatch: expected ${fmt(want)}, file has ${fmt(got)}`);
  if (expect.kind !== undefined && header.kind !== expect.kind) throw mismatch('kind', expect.kind, header.kind);
  if (expect.metric !== undefined && header.metric !== expect.metric) throw mismatch('metric', expect.metric, header.metric);
  if (expect.runId !== undefined && header.runId !== expect.runId) throw mismatch('run id', expect.runId, header.runId);
  for (const [k, v] of Object.entries(expect.params ?? {})) if (header.params[k] !== v) throw mismatch(`parameter ${k}`, v, header.params[k]);
  const arrays: Record<string, TypedArray> = {};
  for (const e of header.arrays) {
    const want = expect.shapes?.[e.name];
    if (want && (want.length !== e.shape.length || want.some((d, i) => d >= 0 && d !== e.shape[i]))) throw mismatch(`shape of ${e.name}`, want, e.shape);
    if (!(e.dtype in dtypeBytes)) throw bad(`array ${e.name} has unknown dtype ${e.dtype}`);
    const n = e.shape.reduce((x, y) => x * y, 1);
    if (e.offset % 4 !== 0 || e.offset + n * dtypeBytes[e.dtype] > buf.length - 4) throw bad(`array ${e.name} lies outside the file`);
    const copy = buf.buffer.slice(buf.byteOffset + e.offset, buf.byteOffset + e.offset + n * 4);
    arrays[e.name] = e.dtype === 'f32' ? new Float32Array(copy) : new Int32Array(copy);
  }
  for (const name of Object.keys(expect.shapes ?? {})) if (!(name in arrays)) throw bad(`array ${name} is missing`);
  return { header, arrays };
}

function align(n: number): number {
  return Math.ceil(n / 16) * 16;
}
function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
function fmt(v: unknown): string {
  return Array.isArray(v) ? v.map((d) => (d < 0 ? '*' : d)).join('×') : JSON.stringify(v);
}
