/**
 * Audio decoding: bytes → channels of float samples in [-1, 1] at the file's own rate, then
 * downmix + resample to the analysis rate ({@link ANALYSIS_RATE}). WAV (PCM 8/16/24/32-bit int,
 * 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, any channel count) is parsed here; MP3, OGG, FLAC and
 * the rest go through `audio-decode` (pure JS/WASM codecs from npm), and, if that fails, through
 * Debian's `ffmpeg` when it is on the PATH. Failures are `DeepcutError`s that name the file.
 */
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { DeepcutError } from '../errors.ts';

/** Sample rate (Hz) every analysis runs at. */
export const ANALYSIS_RATE = 22_050;

/** Decoded audio: one Float32Array per channel (samples in [-1, 1]), all the same length. */
export interface DecodedAudio {
  channels: Float32Array[];
  /** Samples per second of each channel. */
  sampleRate: number;
}

/**
 * Parse a RIFF/WAVE file. Supports PCM integer (8-bit unsigned, 16/24/32-bit signed), IEEE float
 * (32/64-bit) and WAVE_FORMAT_EXTENSIBLE with either sub-format. Throws DeepcutError('invalid_input')
 * naming `file` and what is wrong (not RIFF, no fmt/data chunk, unsupported encoding).
 */
export function parseWav(bytes: Uint8Array, file = '(buffer)'): DecodedAudio {
  const bad = (msg: string) => new DeepcutError('invalid_input', msg, { file });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw bad('not a WAV file (no RIFF/WAVE header)');
  let fmt: { format: number; channels: number; rate: number; bits: number; blockAlign: number } | undefined;
  let data: { start: number; end: number } | undefined;
  let o = 12;
  while (o + 8 <= bytes.length) {
    const id = tag(o);
    const size = dv.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw bad('corrupt WAV: fmt chunk too short');
      let format = dv.getUint16(body, true);
      const bits = dv.getUint16(body + 14, true);
      // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
      if (format === 0xfffe && size >= 40 && body + 26 <= bytes.length) format = dv.getUint16(body + 24, true);
      fmt = { format, channels: dv.getUint16(body + 2, true), rate: dv.getUint32(body + 4, true), bits, blockAlign: dv.getUint16(body + 12, true) };
    } else if (id === 'data') {
      // Streaming writers leave size 0 or 0xFFFFFFFF; a truncated file is read as far as it goes.
      const end = size === 0 || size === 0xffffffff ? bytes.length : Math.min(bytes.length, body + size);
      data = { start: body, end };
      if (fmt) break;
    }
    o = body + size + (size & 1);
  }
  if (!fmt) throw bad('corrupt WAV: no fmt chunk');
  if (!data) throw bad('corrupt WAV: no data chunk');
  const { format, channels: nch, rate, bits } = fmt;
  if (nch < 1) throw bad('corrupt WAV: 0 channels');
  if (rate < 1000 || rate > 768_000) throw bad(`unsupported WAV sample rate ${rate} Hz`);
  const isFloat = format === 3;
  if (!(format === 1 || isFloat)) throw bad(`unsupported WAV encoding (format tag ${format}; expected PCM 1 or IEEE float 3)`);
  if (isFloat ? bits !== 32 && bits !== 64 : ![8, 16, 24, 32].includes(bits)) throw bad(`unsupported WAV sample size ${bits}-bit ${isFloat ? 'float' : 'PCM'}`);
  const bps = bits / 8;
  const frameBytes = bps * nch;
  const n = Math.floor((data.end - data.start) / frameBytes);
  const out = Array.from({ length: nch }, () => new Float32Array(n));
  let p = data.start;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++, p += bps) {
      let v: number;
      if (isFloat) v = bits === 32 ? dv.getFloat32(p, true) : dv.getFloat64(p, true);
      else if (bits === 16) v = dv.getInt16(p, true) / 32768;
      else if (bits === 24) v = (((bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16)) << 8) >> 8) / 8388608;
      else if (bits === 8) v = (bytes[p] - 128) / 128;
      else v = dv.getInt32(p, true) / 2147483648;
      out[c][i] = v;
    }
  }
  return { channels: out, sampleRate: rate };
}

/** Average all channels into one. Shape: channels[c][n] → [n]. */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += ch[i];
  const g = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= g;
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (for the Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/**
 * Band-limited resampling by a polyphase windowed-sinc filter (Kaiser window, β = 8.6, about
 * 80 dB stop-band; cutoff at 0.95 × the lower Nyquist; `zeros` zero crossings each side).
 * `input` at `from` Hz → output at `to` Hz, length ⌈n·to/from⌉. Rates are reduced to L/M by their
 * gcd; one filter phase per output phase (L ≤ 4096), else the taps are computed per sample.
 */
export function resample(input: Float32Array, from: number, to: number, zeros = 10): Float32Array {
  if (from === to) return input;
  const g = gcd(from, to);
  const L = to / g; // up
  const M = from / g; // down
  if (L === 1 && M === 2) return halveRate(input, zeros);
  const outLen = Math.ceil((input.length * L) / M);
  const out = new Float32Array(outLen);
  const cutoff = 0.95 * Math.min(1, to / from); // in units of the input Nyquist
  const half = Math.ceil(zeros / cutoff); // half-length in input samples
  const beta = 8.6;
  const i0b = besselI0(beta);
  const tap = (x: number) => {
    // x: distance in input samples from the output instant
    const r = x / (half + 1);
    if (r <= -1 || r >= 1) return 0;
    const s = x === 0 ? 1 : Math.sin(Math.PI * cutoff * x) / (Math.PI * cutoff * x);
    return cutoff * s * (besselI0(beta * Math.sqrt(1 - r * r)) / i0b);
  };
  const width = 2 * half + 1;
  const usePhases = L <= 4096;
  let table: Float32Array | undefined;
  if (usePhases) {
    table = new Float32Array(L * width);
    for (let ph = 0; ph < L; ph++) {
      const frac = ph / L;
      for (let k = 0; k < width; k++) table[ph * width + k] = tap(k - half - frac);
    }
  }
  const n = input.length;
  for (let j = 0; j < outLen; j++) {
    const num = j * M;
    const base = Math.floor(num / L);
    const ph = num - base * L;
    const start = base - half;
    let acc = 0;
    if (table) {
      const t0 = ph * width;
      const k0 = Math.max(0, -start);
      const k1 = Math.min(width, n - start);
      for (let k = k0; k < k1; k++) acc += table[t0 + k] * input[start + k];
    } else {
      const frac = ph / L;
      for (let k = 0; k < width; k++) {
        const i = start + k;
        if (i >= 0 && i < n) acc += tap(k - half - frac) * input[i];
      }
    }
    out[j] = acc;
  }
  return out;
}

/**
 * 2:1 decimation (44.1 → 22.05 kHz, the common case) by a symmetric half-band Kaiser-windowed
 * sinc: cutoff at the output Nyquist, so every even tap but the centre is zero and the odd taps
 * come in equal pairs — `zeros` multiplies per output sample instead of 4·zeros + 1.
 */
function halveRate(input: Float32Array, zeros: number): Float32Array {
  const n = input.length;
  const out = new Float32Array(Math.ceil(n / 2));
  const half = 2 * zeros; // input samples each side
  const beta = 8.6;
  const i0b = besselI0(beta);
  const taps = new Float64Array(zeros); // taps[j] weights offsets ±(2j+1)
  for (let j = 0; j < zeros; j++) {
    const m = 2 * j + 1;
    const r = m / (half + 1);
    taps[j] = (0.5 * Math.sin((Math.PI * m) / 2)) / ((Math.PI * m) / 2) * (besselI0(beta * Math.sqrt(1 - r * r)) / i0b);
  }
  for (let o = 0; o < out.length; o++) {
    const c = 2 * o;
    let acc = 0.5 * input[c];
    if (c - half + 1 >= 0 && c + half - 1 < n) {
      for (let j = 0; j < zeros; j++) acc += taps[j] * (input[c - 2 * j - 1] + input[c + 2 * j + 1]);
    } else {
      for (let j = 0; j < zeros; j++) {
        const a = c - 2 * j - 1;
        const b = c + 2 * j + 1;
        acc += taps[j] * ((a >= 0 ? input[a] : 0) + (b < n ? input[b] : 0));
      }
    }
    out[o] = acc;
  }
  return out;
}

/** Mono samples at {@link ANALYSIS_RATE}: downmix then resample. */
export function toAnalysisRate(a: DecodedAudio): Float32Array {
  return resample(downmix(a.channels), a.sampleRate, ANALYSIS_RATE);
}

const isWav = (b: Uint8Array) => b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x41;

let ffmpegPresent: boolean | undefined;
/** Whether an `ffmpeg` binary answers on the PATH (checked once). */
export async function hasFfmpeg(): Promise<boolean> {
  if (ffmpegPresent === undefined) {
    ffmpegPresent = await new Promise<boolean>((res) => {
      const p = spawn('ffmpeg', ['-version'], { stdio: 'ignore' });
      p.on('error', () => res(false));
      p.on('close', (code) => res(code === 0));
    });
  }
  return ffmpegPresent;
}

/** Decode any file ffmpeg reads into 32-bit float interleaved PCM at its own rate and channels. */
async function decodeWithFfmpeg(file: string): Promise<DecodedAudio> {
  // Probe-free: ask ffmpeg for a float WAV on stdout and parse it with our own WAV reader.
  const chunks: Buffer[] = [];
  let stderr = '';
  const code = await new Promise<number>((res, rej) => {
    const p = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'wav', '-acodec', 'pcm_f32le', '-rf64', 'never', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', rej);
    p.on('close', (c) => res(c ?? 1));
  });
  if (code !== 0) throw new Error(stderr.trim().split('\n').slice(-1)[0] || `ffmpeg exited with ${code}`);
  return parseWav(new Uint8Array(Buffer.concat(chunks)), file);
}

/**
 * Decode an audio file. WAV natively; anything else through `audio-decode`, then `ffmpeg` if it is
 * installed. Throws DeepcutError naming the file: 'not_found' if it cannot be read,
 * 'invalid_input' if it is corrupt or of an unknown format.
 */
export async function decodeFile(file: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new DeepcutError('not_found', `cannot read audio file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file }, { cause: e });
  }
  return decodeBytes(bytes, file);
}

/** {@link decodeFile} for bytes already in memory (`file` names them in errors and for ffmpeg). */
export async function decodeBytes(bytes: Uint8Array, file: string): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new DeepcutError('invalid_input', 'empty audio file', { file });
  if (isWav(bytes)) return parseWav(bytes, file);
  const reasons: string[] = [];
  try {
    const { default: decode } = await import('audio-decode');
    const a = await decode(bytes);
    if (a && a.channelData.length > 0 && a.channelData[0].length > 0) return { channels: a.channelData, sampleRate: a.sampleRate };
    reasons.push('audio-decode: no samples');
  } catch (e) {
    reasons.push(`audio-decode: ${(e as Error).message}`);
  }
  if (await hasFfmpeg()) {
    try {
      return await decodeWithFfmpeg(file);
    } catch (e) {
      reasons.push(`ffmpeg: ${(e as Error).message}`);
    }
  } else reasons.push('ffmpeg: not installed (apt-get install ffmpeg for more formats)');
  throw new DeepcutError('invalid_input', `cannot decode audio (unknown format or corrupt data): ${reasons.join('; ')}`, { file });
}
