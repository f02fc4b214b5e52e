/**
 * Self-describing binary artifacts (models, indexes): one file holds a magic, a JSON header
 * (kind, version, run id, shapes, metric, free metadata) and named typed arrays, each 8-byte
 * aligned. Loading checks magic, kind and version and names every mismatch (after Spotify
 * Voyager's metadata block).
 *
 * Layout: `DEEPCUT\0` (8 bytes) · header length (uint32 LE) · header JSON (UTF-8) · padding to 8 ·
 * arrays in header order, each padded to 8 bytes.
 */
import { readFile, writeFile, rename } from 'node:fs/promises';
import { DeepcutError } from '../errors.ts';

const MAGIC = 'DEEPCUT\0';

export type ArtifactArray = Float32Array | Float64Array | Int32Array | Uint8Array;
type DType = 'f32' | 'f64' | 'i32' | 'u8';

export interface ArtifactHeader {
  /** What the file holds: `popularity`, `itemknn`, `index-exact`, … */
  kind: string;
  /** Format version of that kind; a loader accepts its own version only. */
  version: number;
  /** The pipeline run that made the file. */
  runId: string;
  createdAt: string;
  /** Kind-specific description: shapes, metric, hyper-parameters, build report. */
  meta: Record<string, unknown>;
}

interface StoredHeader extends ArtifactHeader {
  arrays: { name: string; dtype: DType; length: number; offset: number }[];
}

function dtypeOf(a: ArtifactArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * Write `arrays` with a header describing them to `path` (atomically: a temporary file renamed
 * into place). Example: `writeArtifact(p, { kind: 'popularity', version: 1, runId, meta: { items } }, { counts })`.
 */
export async function writeArtifact(path: string, head: Omit<ArtifactHeader, 'createdAt'>, arrays: Record<string, ArtifactArray>): Promise<void> {
  let offset = 0;
  const entries = Object.entries(arrays).map(([name, a]) => {
    const e = { name, dtype: dtypeOf(a), length: a.length, offset };
    offset += pad8(a.byteLength);
    return e;
  });
  const header: StoredHeader = { ...head, createdAt: new Date().toISOString(), arrays: entries };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = pad8(12 + json.length);
  const buf = Buffer.alloc(start + offset);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32LE(json.length, 8);
  json.copy(buf, 12);
  Object.values(arrays).forEach((a, i) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, start + entries[i].offset);
  });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, buf);
  await rename(tmp, path);
}

export interface Artifact extends ArtifactHeader {
  arrays: Record<string, ArtifactArray>;
}

/**
 * Read an artifact written by {@link writeArtifact}, checking it is a `kind` file of `version`.
 * Throws `invalid_input` naming the mismatch (not a deepcut file, other kind, other version).
 */
export async function readArtifact(path: string, kind: string, version: number): Promise<Artifact> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new DeepcutError('not_found', `cannot read ${kind} file: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new DeepcutError('invalid_input', 'not a deepcut artifact (bad magic)', { file: path });
  const len = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + len)) as StoredHeader;
  if (header.kind !== kind) throw new DeepcutError('invalid_input', `holds a '${header.kind}' artifact, expected '${kind}'`, { file: path });
  if (header.version !== version) throw new DeepcutError('invalid_input', `'${kind}' version ${header.version} is not the supported version ${version}`, { file: path });
  const start = pad8(12 + len);
  const arrays: Record<string, ArtifactArray> = {};
  for (const e of header.arrays) {
    const at = start + e.offset;
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset + at, e.length * ({ f32: 4, f64: 8, i32: 4, u8: 1 } as const)[e.dtype]).slice();
    arrays[e.name] =
      e.dtype === 'f32' ? new Float32Array(bytes.buffer) : e.dtype === 'f64' ? new Float64Array(bytes.buffer) : e.dtype === 'i32' ? new Int32Array(bytes.buffer) : bytes;
  }
  const { arrays: _entries, ...rest } = header;
  return { ...rest, arrays };
}

/** The named array of `a`, checked to be of the given type; a missing one is an error naming it. */
export function arrayOf<T extends ArtifactArray>(a: Artifact, name: string, type: { new (n: number): T; name: string }): T {
  const x = a.arrays[name];
  if (!(x instanceof type)) throw new DeepcutError('invalid_input', `'${a.kind}' file lacks array '${name}' of type ${type.name}`);
  return x;
}
