import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseWav, resample, decodeFile, downmix, ANALYSIS_RATE } from './decode.ts';
import { hannWindow, powerSpectrogram, melFilterBank, hzToMel, melToHz, chroma, autocorrelation, onsetStrength, logMelSpectrogram } from './dsp.ts';
import { integratedLoudness, kWeightingFilters } from './loudness.ts';
import { estimateKey, mirexKeyScore, KEY_PROFILES, meanChroma } from './key.ts';
import { estimateTempo, trackBeats, tempoFromBeats } from './rhythm.ts';
import { analyzeAudio } from './features.ts';
import { Rng } from '../util/rng.ts';
import { writeMidi } from './eval/midi.ts';

/** A WAV file in memory: interleaved samples in [-1, 1] encoded as `bits` PCM (or float). */
function wav(channels: Float32Array[], sr: number, bits: 8 | 16 | 24 | 32, float = false, extensible = false): Uint8Array {
  const nch = channels.length;
  const n = channels[0].length;
  const bps = bits / 8;
  const dataBytes = n * nch * bps;
  const fmtSize = extensible ? 40 : 16;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + dataBytes);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(fmtSize, 16);
  const tagCode = float ? 3 : 1;
  buf.writeUInt16LE(extensible ? 0xfffe : tagCode, 20);
  buf.writeUInt16LE(nch, 22);
  buf.writeUInt32LE(sr, 24);
  buf.writeUInt32LE(sr * nch * bps, 28);
  buf.writeUInt16LE(nch * bps, 32);
  buf.writeUInt16LE(bits, 34);
  if (extensible) {
    buf.writeUInt16LE(22, 36);
    buf.writeUInt16LE(tagCode, 44); // first two bytes of the sub-format GUID
  }
  let o = 20 + fmtSize;
  buf.write('data', o);
  buf.writeUInt32LE(dataBytes, o + 4);
  o += 8;
  for (let i = 0; i < n; i++)
    for (let c = 0; c < nch; c++, o += bps) {
      const v = channels[c][i];
      if (float) buf.writeFloatLE(v, o);
      else if (bits === 8) buf.writeUInt8(Math.round(v * 127) + 128, o);
      else if (bits === 16) buf.writeInt16LE(Math.round(v * 32767), o);
      else if (bits === 24) buf.writeIntLE(Math.round(v * 8388607), o, 3);
      else buf.writeInt32LE(Math.round(v * 2147483647), o);
    }
  return new Uint8Array(buf);
}

const sine = (f: number, sr: number, seconds: number, amp = 0.5) => Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / sr));

test('parseWav reads PCM 8/16/24/32 and float, plain and extensible, any channel count', () => {
  const l = Float32Array.from([0, 0.5, -0.5, 0.25]);
  const r = Float32Array.from([0.1, -0.1, 0.2, -0.2]);
  for (const [bits, float, tol] of [[8, false, 1 / 100], [16, false, 1e-4], [24, false, 1e-6], [32, false, 1e-8], [32, true, 1e-7]] as const) {
    for (const ext of [false, true]) {
      const a = parseWav(wav([l, r], 44100, bits, float, ext));
      assert.equal(a.sampleRate, 44100);
      assert.equal(a.channels.length, 2);
      for (let i = 0; i < 4; i++) {
        assert.ok(Math.abs(a.channels[0][i] - l[i]) < tol, `${bits}${float ? 'f' : ''} L[${i}]`);
        assert.ok(Math.abs(a.channels[1][i] - r[i]) < tol, `${bits}${float ? 'f' : ''} R[${i}]`);
      }
    }
  }
  assert.deepEqual([...downmix([l, r])].map((v) => +v.toFixed(3)), [0.05, 0.2, -0.15, 0.025]);
});

test('parseWav names the file and the problem for broken input', () => {
  assert.throws(() => parseWav(new Uint8Array([1, 2, 3]), 'x.wav'), /^DeepcutError: x\.wav: not a WAV file \(no RIFF\/WAVE header\)$/);
  const good = wav([new Float32Array(4)], 8000, 16);
  const noData = good.slice(0, 36); // header + fmt, no data chunk
  assert.throws(() => parseWav(noData, 'y.wav'), /y\.wav: corrupt WAV: no data chunk/);
  const alaw = wav([new Float32Array(4)], 8000, 16);
  new DataView(alaw.buffer).setUint16(20, 6, true);
  assert.throws(() => parseWav(alaw, 'z.wav'), /z\.wav: unsupported WAV encoding \(format tag 6; expected PCM 1 or IEEE float 3\)/);
});

test('decodeFile: missing and undecodable files are DeepcutErrors naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-audio-'));
  await assert.rejects(decodeFile(join(dir, 'nope.mp3')), (e: Error) => e.name === 'DeepcutError' && /nope\.mp3: cannot read audio file: ENOENT/.test(e.message));
  const junk = join(dir, 'junk.mp3');
  writeFileSync(junk, Buffer.from('this is not audio at all, just text '.repeat(20)));
  await assert.rejects(decodeFile(junk), (e: Error) => e.name === 'DeepcutError' && /junk\.mp3: cannot decode audio \(unknown format or corrupt data\)/.test(e.message));
  const ok = join(dir, 'ok.wav');
  writeFileSync(ok, wav([sine(440, 8000, 0.1)], 8000, 16));
  assert.equal((await decodeFile(ok)).channels[0].length, 800);
});

test('resample keeps a tone in band and removes one above the new Nyquist', () => {
  const sr = 44100;
  const inBand = resample(sine(1000, sr, 1), sr, ANALYSIS_RATE);
  assert.equal(inBand.length, ANALYSIS_RATE);
  const ref = sine(1000, ANALYSIS_RATE, 1);
  let err = 0;
  for (let i = 1000; i < 20000; i++) err = Math.max(err, Math.abs(inBand[i] - ref[i]));
  assert.ok(err < 1e-3, `in-band error ${err}`);
  const alias = resample(sine(15000, sr, 1), sr, ANALYSIS_RATE);
  let rms = 0;
  for (let i = 1000; i < 20000; i++) rms += alias[i] ** 2;
  assert.ok(Math.sqrt(rms / 19000) < 1e-3, 'a 15 kHz tone must not alias into a 22.05 kHz signal');
  // an odd ratio (48 kHz → 22.05 kHz, L/M = 147/320) keeps amplitude
  const odd = resample(sine(440, 48000, 0.5), 48000, ANALYSIS_RATE);
  const peak = Math.max(...odd.slice(2000, 9000));
  assert.ok(Math.abs(peak - 0.5) < 0.005, `peak ${peak}`);
});

test('STFT puts a pure tone in its bin; mel scale round-trips; filter bank covers the bins', () => {
  const sr = 22050;
  const f = (100 * sr) / 2048; // exactly bin 100
  const spec = powerSpectrogram(sine(f, sr, 1), { nFft: 2048, hop: 512 });
  assert.equal(spec.cols, 1025);
  assert.equal(spec.rows, 1 + Math.floor(sr / 512));
  const row = spec.data.subarray(20 * 1025, 21 * 1025);
  let arg = 0;
  for (let k = 0; k < 1025; k++) if (row[k] > row[arg]) arg = k;
  assert.equal(arg, 100);
  for (const hz of [0, 440, 1000, 4000, 11025]) assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-6);
  const fb = melFilterBank(sr, 2048, 128);
  assert.equal(fb.bands, 128);
  // Slaney normalisation: each triangle's area in Hz is 1 → sum of weights × bin width ≈ 1
  const binHz = sr / 2048;
  const area = [...fb.weights[60]].reduce((a, b) => a + b, 0) * binHz;
  assert.ok(Math.abs(area - 1) < 0.05, `area ${area}`);
  assert.equal(hannWindow(4).join(','), '0,0.5,1,0.5');
});

test('chroma of an A major triad peaks on A, C# and E; key of C major scale profile', () => {
  const sr = 22050;
  const x = new Float32Array(sr);
  for (const f of [220, 277.18, 329.63]) {
    const s = sine(f, sr, 1, 0.3);
    for (let i = 0; i < x.length; i++) x[i] += s[i];
  }
  const c = chroma(powerSpectrogram(x), sr, 2048);
  const m = meanChroma(c);
  const top = [...m].map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 3).map((p) => p[1]).sort((a, b) => a - b);
  assert.deepEqual(top, [1, 4, 9]);
  // The profiles themselves, rotated, are recognised as their own key.
  for (const name of Object.keys(KEY_PROFILES) as (keyof typeof KEY_PROFILES)[]) {
    const p = KEY_PROFILES[name];
    const rot = (v: number[], k: number) => v.map((_, i) => v[(i - k + 12) % 12]);
    assert.deepEqual(estimateKey(rot(p.major, 7), name), { ...estimateKey(rot(p.major, 7), name), key: 7, mode: 1 });
    assert.deepEqual(estimateKey(rot(p.minor, 9), name), { ...estimateKey(rot(p.minor, 9), name), key: 9, mode: 0 });
  }
  assert.equal(estimateKey(new Array(12).fill(0)).key, -1);
});

test('mirexKeyScore: exact 1, fifth 0.5, relative 0.3, parallel 0.2, other 0', () => {
  const C = { key: 0, mode: 1 };
  assert.equal(mirexKeyScore({ key: 0, mode: 1 }, C), 1);
  assert.equal(mirexKeyScore({ key: 7, mode: 1 }, C), 0.5);
  assert.equal(mirexKeyScore({ key: 9, mode: 0 }, C), 0.3);
  assert.equal(mirexKeyScore({ key: 0, mode: 3 % 2 === 1 ? 0 : 1 }, C), 0.2);
  assert.equal(mirexKeyScore({ key: 3, mode: 1 }, { key: 0, mode: 0 }), 0.3);
  assert.equal(mirexKeyScore({ key: 2, mode: 1 }, C), 0);
});

test('BS.1770: K-weighting matches the 48 kHz coefficients; a 997 Hz sine at -20 dBFS in both channels is -20 LUFS', () => {
  const [shelf, hp] = kWeightingFilters(48000);
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  assert.ok(near(shelf.b[0], 1.53512485958697) && near(shelf.b[1], -2.69169618940638) && near(shelf.b[2], 1.19839281085285));
  assert.ok(near(shelf.a[0], -1.69065929318241) && near(shelf.a[1], 0.73248077421585));
  assert.ok(near(hp.a[0], -1.99004745483398) && near(hp.a[1], 0.99007225036621));
  for (const sr of [48000, 44100, 22050]) {
    const s = sine(997, sr, 5, 0.1); // −20 dBFS peak-referenced (AES17 full-scale sine)
    const st = integratedLoudness([s, s], sr).integratedLufs;
    assert.ok(Math.abs(st - -20) < 0.05, `${sr} Hz stereo: ${st}`);
    // one channel: 3 dB less (EBU Tech 3341 convention: a mono file is one channel)
    const mono = integratedLoudness([s], sr).integratedLufs;
    assert.ok(Math.abs(mono - -23.01) < 0.05, `${sr} Hz mono: ${mono}`);
  }
  // gating: 5 s of tone then 5 s at -80 dBFS reads as the tone (the quiet blocks are gated out;
  // only the three blocks straddling the change pull it down slightly)
  const sr = 48000;
  const x = new Float32Array(sr * 10);
  x.set(sine(997, sr, 5, 0.1));
  x.set(sine(997, sr, 5, 0.0001), sr * 5);
  assert.ok(Math.abs(integratedLoudness([x, x], sr).integratedLufs - -20) < 0.2);
  assert.equal(integratedLoudness([new Float32Array(sr)], sr).integratedLufs, -Infinity);
});

/** Clicks (short decaying noise bursts) at `bpm`, accenting every `meter`-th. */
function clickTrack(bpm: number, seconds: number, sr: number, meter = 4, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(Math.round(seconds * sr));
  const period = (60 / bpm) * sr;
  for (let b = 0; b * period < x.length; b++) {
    const start = Math.round(b * period + sr * 0.05);
    const amp = b % meter === 0 ? 0.9 : 0.4;
    for (let i = 0; i < 600 && start + i < x.length; i++) x[start + i] += amp * (rng.next() * 2 - 1) * Math.exp(-i / 120);
  }
  return x;
}

test('tempo and beats of click tracks at known BPM', () => {
  const sr = ANALYSIS_RATE;
  const fr = sr / 256;
  for (const bpm of [72, 100, 128, 150]) {
    const x = clickTrack(bpm, 20, sr);
    const onset = onsetStrength(logMelSpectrogram(x, sr, { hop: 256 }));
    const t = estimateTempo(onset, fr);
    assert.ok(Math.abs(t.bpm / bpm - 1) < 0.04, `${bpm} BPM: global ${t.bpm}`);
    const beats = trackBeats(onset, t.period);
    const fine = tempoFromBeats(beats, fr);
    assert.ok(Math.abs(fine / bpm - 1) < 0.01, `${bpm} BPM: beats ${fine}`);
    // beats land on the clicks within 4 frames (46 ms; beat F-measure tolerates 70 ms): flux on a
    // 93 ms centred window rises a few frames before the click itself
    const period = (60 / bpm) * fr;
    const off = beats.map((b) => {
      const ph = (b - 0.05 * fr) / period;
      return Math.abs(ph - Math.round(ph)) * period;
    });
    assert.ok(Math.max(...off.slice(1, -1)) <= 4, `${bpm} BPM: offsets ${off.map((v) => v.toFixed(1))}`);
  }
});

test('analyzeAudio on a synthetic accented click + chord signal: tempo, meter, key', () => {
  const sr = ANALYSIS_RATE;
  for (const [bpm, meter] of [[96, 3], [120, 4]] as const) {
    const x = clickTrack(bpm, 15, sr, meter, 3);
    // G major triad + scale tones, quiet, underneath
    for (const [f, a] of [[196, 0.1], [246.94, 0.08], [293.66, 0.08], [392, 0.05], [440, 0.03], [523.25, 0.03], [369.99, 0.03]] as const) {
      const s = sine(f, sr, 15, a);
      for (let i = 0; i < x.length; i++) x[i] += s[i];
    }
    const f = analyzeAudio({ channels: [x], sampleRate: sr });
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `tempo ${f.tempo_bpm} vs ${bpm}`);
    assert.equal(f.time_signature, meter);
    assert.equal(f.key, 7);
    assert.equal(f.mode, 1);
    assert.ok(f.energy >= 0 && f.energy <= 1 && f.danceability >= 0 && f.danceability <= 1);
    assert.ok(f.loudness_lufs !== null && f.loudness_lufs < 0);
  }
});

test('autocorrelation equals the direct sum', () => {
  const x = [1, 2, 3, 4, 0, -1];
  const r = autocorrelation(x, 3);
  const direct = [0, 1, 2, 3].map((k) => x.slice(0, x.length - k).reduce((a, v, i) => a + v * x[i + k], 0));
  for (let k = 0; k <= 3; k++) assert.ok(Math.abs(r[k] - direct[k]) < 1e-9);
});

test('writeMidi writes a format-1 file with tempo, time signature and notes', () => {
  const bytes = writeMidi({ ppq: 480, bpm: 120, numerator: 3, denominator: 4, parts: [{ name: 'p', channel: 0, program: 5, notes: [{ tick: 0, duration: 480, pitch: 60, velocity: 100 }] }] });
  const b = Buffer.from(bytes);
  assert.equal(b.toString('latin1', 0, 4), 'MThd');
  assert.equal(b.readUInt16BE(8), 1); // format 1
  assert.equal(b.readUInt16BE(10), 2); // conductor + one part
  assert.equal(b.readUInt16BE(12), 480);
  assert.ok(b.includes(Buffer.from([0xff, 0x51, 0x03, 0x07, 0xa1, 0x20]))); // 500,000 µs per quarter
  assert.ok(b.includes(Buffer.from([0xff, 0x58, 0x04, 3, 2, 24, 8])));
  assert.ok(b.includes(Buffer.from([0x00, 0xc0, 5, 0x00, 0x90, 60, 100, 0x83, 0x60, 0x80, 60, 0])));
});
