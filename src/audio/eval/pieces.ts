/**
 * A labelled set of short pieces for evaluating tempo, meter, key and loudness: seeded random
 * songs with drums (GM channel 10, accented downbeats), a chord part, a bass line and a melody, in
 * all 24 keys, 3/4 and 4/4, 60–180 BPM and varied General MIDI instruments, written as MIDI and
 * rendered to WAV by `timidity` (FluidR3 GM sound font). Renders are cached on disk.
 *
 * {@link varietyLabels} adds the groups real recordings need and the base set lacks: slow tempos
 * (50–90 BPM, some without drums), rubato (a drifting tempo), detuned instruments (±50 cents by
 * pitch bend), pieces that open on the dominant, duple (2/4) and compound (6/8) meters.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Rng } from '../../util/rng.ts';
import { writeMidi, type MidiNote, type MidiPart, type MidiSong } from './midi.ts';

/** The groups of {@link varietyLabels}; the base set is `base`. */
export const PIECE_GROUPS = ['base', 'slow', 'rubato', 'detuned', 'off-tonic', 'duple', 'compound'] as const;
export type PieceGroup = (typeof PIECE_GROUPS)[number];

export interface PieceLabel {
  id: string;
  /** Beats per minute: quarter notes, or dotted quarters in 6/8. */
  bpm: number;
  /** The time signature's numerator: 2/4, 3/4, 4/4 or 6/8 (two dotted-quarter beats a bar). */
  beatsPerBar: 2 | 3 | 4 | 6;
  key: number;
  mode: 0 | 1;
  /** timidity amplification, percent (varies loudness). */
  amplify: number;
  programs: { chords: number; bass: number; melody: number };
  hats: 'eighths' | 'quarters' | 'none';
  // The fields below are absent in the base set (its labels, and so its cached renders, are unchanged).
  /** The variety group (absent: `base`). */
  group?: PieceGroup;
  /** No drum kit at all (absent: drums). */
  drums?: false;
  /** Every pitched part bent by this many cents (the piece is detuned; its key label is unchanged). */
  detuneCents?: number;
  /** The tempo drifts by up to this fraction around `bpm` (a slow sine plus per-beat jitter). */
  rubato?: number;
  /** The piece opens on the dominant (bass pedal and chords on V) and reaches the tonic later. */
  opening?: 'dominant';
}

const PPQ = 480;
// Chords as [root offset from tonic in semitones, quality]
type Q = 'maj' | 'min' | 'dim';
const MAJOR_PROGS: [number, Q][][] = [
  [[0, 'maj'], [5, 'maj'], [7, 'maj'], [0, 'maj']],
  [[0, 'maj'], [9, 'min'], [5, 'maj'], [7, 'maj']],
  [[0, 'maj'], [7, 'maj'], [9, 'min'], [5, 'maj']],
  [[2, 'min'], [7, 'maj'], [0, 'maj'], [0, 'maj']],
  [[0, 'maj'], [5, 'maj'], [0, 'maj'], [7, 'maj']],
];
const MINOR_PROGS: [number, Q][][] = [
  [[0, 'min'], [5, 'min'], [7, 'maj'], [0, 'min']],
  [[0, 'min'], [8, 'maj'], [5, 'min'], [7, 'maj']],
  [[0, 'min'], [10, 'maj'], [8, 'maj'], [7, 'maj']],
  [[0, 'min'], [5, 'min'], [0, 'min'], [7, 'maj']],
  [[0, 'min'], [8, 'maj'], [3, 'maj'], [7, 'maj']],
];
const TRIAD: Record<Q, number[]> = { maj: [0, 4, 7], min: [0, 3, 7], dim: [0, 3, 6] };
const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11];
const MINOR_SCALE = [0, 2, 3, 5, 7, 8, 11]; // harmonic minor
const CHORD_PROGRAMS = [0, 4, 16, 19, 24, 48, 88, 89, 5, 46];
const BASS_PROGRAMS = [32, 33, 34, 38, 43];
const MELODY_PROGRAMS = [73, 40, 56, 65, 80, 11, 71, 0, 68, 81];

/** A piece's loudness and instruments (three draws of `rng`, in this order). */
const sound = (rng: Rng): Pick<PieceLabel, 'amplify' | 'programs'> => ({
  amplify: Math.round(40 + rng.next() * 120),
  programs: { chords: rng.pick(CHORD_PROGRAMS), bass: rng.pick(BASS_PROGRAMS), melody: rng.pick(MELODY_PROGRAMS) },
});

/** Hi-hats by tempo and a uniform draw `r`: fast pieces mostly quarters, none on one in ten of the others. */
const hatsAt = (bpm: number, r: number): PieceLabel['hats'] => (bpm > 140 ? (r < 0.7 ? 'quarters' : 'eighths') : r < 0.6 ? 'eighths' : r < 0.9 ? 'quarters' : 'none');

/** The labelled pieces: `n` of them, deterministic for a seed; keys cycle through all 24. */
export function pieceLabels(n: number, seed = 7): PieceLabel[] {
  const rng = new Rng(seed);
  const out: PieceLabel[] = [];
  for (let i = 0; i < n; i++) {
    const key = i % 12;
    const mode = (Math.floor(i / 12) % 2 === 0 ? 1 : 0) as 0 | 1;
    const bpm = Math.round(60 + rng.next() * 120);
    const beatsPerBar = (rng.next() < 0.5 ? 3 : 4) as 3 | 4;
    const r = rng.next();
    out.push({
      id: `p${String(i).padStart(3, '0')}`,
      bpm,
      beatsPerBar,
      key,
      mode,
      ...sound(rng),
      hats: hatsAt(bpm, r),
    });
  }
  return out;
}

/**
 * `perGroup` labelled pieces of each variety group (every group but `base`), deterministic for a
 * seed; ids are `<group letter><number>` (s slow, r rubato, d detuned, o off-tonic, t duple,
 * c compound). With `heldOut`, one mixed set of `perGroup` pieces drawn from all groups, the base
 * included, with ids `h…` — for figures measured on pieces no threshold was tuned on.
 */
export function varietyLabels(perGroup: number, seed = 17, heldOut = false): PieceLabel[] {
  const rng = new Rng(seed);
  const out: PieceLabel[] = [];
  const groups = PIECE_GROUPS.filter((g) => g !== 'base');
  const total = heldOut ? perGroup : perGroup * groups.length;
  for (let i = 0; i < total; i++) {
    const group: PieceGroup = heldOut ? PIECE_GROUPS[rng.int(PIECE_GROUPS.length)] : groups[Math.floor(i / perGroup)];
    const key = (i * 5) % 12; // steps of a fourth: every tonic within 12 pieces
    const mode = (rng.next() < 0.5 ? 1 : 0) as 0 | 1;
    let bpm = Math.round(group === 'slow' ? 50 + rng.next() * 40 : 60 + rng.next() * 120);
    let beatsPerBar: PieceLabel['beatsPerBar'] = rng.next() < 0.5 ? 3 : 4;
    if (group === 'duple') beatsPerBar = 2;
    if (group === 'compound') {
      beatsPerBar = 6;
      bpm = Math.round(40 + rng.next() * 60); // dotted quarters: 120–300 eighths a minute
    }
    const r = rng.next();
    const hats = group === 'slow' ? (r < 0.6 ? 'eighths' : r < 0.8 ? 'quarters' : 'none') : hatsAt(bpm, r);
    const label: PieceLabel = {
      id: `${heldOut ? 'h' : group === 'duple' ? 't' : group[0]}${String(i).padStart(3, '0')}`,
      bpm,
      beatsPerBar,
      key,
      mode,
      ...sound(rng),
      hats,
      group,
    };
    if (group === 'slow' && rng.next() < 0.3) label.drums = false;
    if (group === 'detuned') label.detuneCents = Math.round((rng.next() < 0.5 ? -1 : 1) * (15 + rng.next() * 35));
    if (group === 'rubato') label.rubato = Math.round((0.04 + rng.next() * 0.06) * 100) / 100;
    if (group === 'off-tonic') label.opening = 'dominant';
    out.push(label);
  }
  return out;
}

/** Off-tonic openings: the first half of the bars on the dominant's side, the second half cadencing home. */
const OPENING: Record<0 | 1, [number, Q][][]> = {
  1: [
    [[7, 'maj'], [2, 'min'], [7, 'maj'], [7, 'maj']],
    [[0, 'maj'], [5, 'maj'], [7, 'maj'], [0, 'maj']],
  ],
  0: [
    [[7, 'maj'], [5, 'min'], [7, 'maj'], [7, 'maj']],
    [[0, 'min'], [5, 'min'], [7, 'maj'], [0, 'min']],
  ],
};

/** The MIDI song of a labelled piece (about `seconds` long). */
export function pieceSong(p: PieceLabel, seconds = 20, seed = 11): MidiSong {
  // the base set's pieces keep their streams (and renders); other groups mix the id's letter in
  const salt = p.id[0] === 'p' ? 0 : p.id.charCodeAt(0) * 104_729;
  const rng = new Rng(seed + Number(p.id.slice(1)) * 7919 + salt);
  const compound = p.beatsPerBar === 6;
  const beats = compound ? 2 : p.beatsPerBar; // beats a bar
  const beat = compound ? (PPQ * 3) / 2 : PPQ; // a dotted quarter in 6/8
  const eighth = PPQ / 2;
  const bar = beat * beats;
  const nBars = Math.max(4, Math.ceil((seconds * p.bpm) / 60 / beats));
  const progs = p.mode === 1 ? MAJOR_PROGS : MINOR_PROGS;
  const prog = p.opening ? undefined : rng.pick(progs);
  const chordOf = (b: number): [number, Q] => (prog ? prog[b % prog.length] : OPENING[p.mode][b < nBars / 2 ? 0 : 1][b % 4]);
  const scale = p.mode === 1 ? MAJOR_SCALE : MINOR_SCALE;
  const drums: MidiNote[] = [];
  const chords: MidiNote[] = [];
  const bass: MidiNote[] = [];
  const melody: MidiNote[] = [];
  const comp = rng.next() < 0.5; // chords on every beat vs held for the bar
  const tonicMidi = 48 + p.key; // C3..B3
  for (let b = 0; b < nBars; b++) {
    const t0 = b * bar;
    const [root, q] = chordOf(b);
    // drums
    for (let k = 0; k < beats && p.drums !== false; k++) {
      const t = t0 + k * beat;
      const down = k === 0;
      if (p.beatsPerBar === 4) {
        if (k === 0 || k === 2) drums.push({ tick: t, duration: beat / 2, pitch: 36, velocity: down ? 124 : 96 });
        if (k === 1 || k === 3) drums.push({ tick: t, duration: beat / 2, pitch: 38, velocity: 92 });
      } else if (p.beatsPerBar === 3) {
        if (k === 0) drums.push({ tick: t, duration: beat / 2, pitch: 36, velocity: 124 });
        else drums.push({ tick: t, duration: beat / 2, pitch: 38, velocity: 70 });
      } else drums.push({ tick: t, duration: beat / 2, pitch: down ? 36 : 38, velocity: down ? 124 : 88 }); // 2/4, 6/8
      if (p.hats !== 'none') {
        drums.push({ tick: t, duration: beat / 4, pitch: 42, velocity: down ? 100 : 80 });
        if (compound && p.hats === 'eighths') for (const e of [1, 2]) drums.push({ tick: t + e * eighth, duration: eighth / 2, pitch: 42, velocity: 60 });
        else if (p.hats === 'eighths') drums.push({ tick: t + beat / 2, duration: beat / 4, pitch: 42, velocity: 60 });
      }
    }
    if (b % 4 === 0 && p.drums !== false) drums.push({ tick: t0, duration: beat, pitch: 49, velocity: 110 });
    // chords: root-position triad around the tonic octave
    const chordRoot = tonicMidi + root + (tonicMidi + root > 59 ? -12 : 0) + 12;
    const tones = TRIAD[q].map((d) => chordRoot + d);
    if (comp && compound) {
      // 6/8 accompaniment: the chord on the second and third eighth of each beat
      for (let k = 0; k < beats; k++) for (const e of [1, 2]) for (const n of tones) chords.push({ tick: t0 + k * beat + e * eighth, duration: eighth * 0.9, pitch: n, velocity: 62 });
    } else if (comp) {
      for (let k = 0; k < beats; k++) for (const n of tones) chords.push({ tick: t0 + k * beat, duration: beat * 0.9, pitch: n, velocity: k === 0 ? 90 : 70 });
    } else for (const n of tones) chords.push({ tick: t0, duration: bar - 10, pitch: n, velocity: 80 });
    // bass: root on the downbeat, the fifth on the bar's other strong beat (4/4: beat 3; 2/4, 6/8: beat 2)
    const bassRoot = 36 + ((p.key + root) % 12);
    const split = p.beatsPerBar === 4 ? 2 : p.beatsPerBar === 3 ? 0 : 1;
    bass.push({ tick: t0, duration: split ? split * beat - 10 : bar - 10, pitch: bassRoot, velocity: 100 });
    if (split) bass.push({ tick: t0 + split * beat, duration: (beats - split) * beat - 10, pitch: bassRoot + 7, velocity: 85 });
    // melody: chord tone on the downbeat, then scale steps (quarters and eighths; in 6/8 eighths and quarters)
    let t = t0;
    let deg = rng.int(3) * 2; // index into the scale: 0, 2, 4 (tonic triad)
    const melodyTonic = 60 + p.key; // C4..B4
    while (t < t0 + bar) {
      const first = t === t0;
      const len = compound ? Math.min(t0 + bar - t, rng.next() < 0.6 ? eighth : PPQ) : first || rng.next() < 0.6 ? beat : beat / 2;
      let pitch: number;
      if (first) pitch = melodyTonic + ((root + TRIAD[q][rng.int(3)]) % 12);
      else {
        deg = Math.max(0, Math.min(9, deg + rng.pick([-2, -1, -1, 1, 1, 2])));
        pitch = melodyTonic + scale[deg % 7] + 12 * Math.floor(deg / 7);
      }
      melody.push({ tick: t, duration: len * 0.9, pitch, velocity: first ? 100 : 80 + rng.int(10) });
      t += len;
    }
  }
  // pitch bend of the default ±2 semitone range: 8192 steps = 200 cents
  const bend = p.detuneCents ? Math.round((p.detuneCents / 200) * 8192) : undefined;
  const parts: MidiPart[] = [
    ...(p.drums === false ? [] : [{ name: 'drums', channel: 9, program: 0, notes: drums }]),
    { name: 'chords', channel: 0, program: p.programs.chords, notes: chords, pitchBend: bend },
    { name: 'bass', channel: 1, program: p.programs.bass, notes: bass, pitchBend: bend },
    { name: 'melody', channel: 2, program: p.programs.melody, notes: melody, pitchBend: bend },
  ];
  const quarterBpm = compound ? p.bpm * 1.5 : p.bpm;
  const song: MidiSong = { ppq: PPQ, bpm: quarterBpm, numerator: p.beatsPerBar, denominator: compound ? 8 : 4, parts };
  if (p.rubato) {
    // one slow swell over the piece plus ±1.5 % per beat: the mean beat rate stays within 0.5 % of bpm
    const total = nBars * beats;
    const phase = rng.next() * 2 * Math.PI;
    song.tempos = Array.from({ length: total }, (_, i) => ({ tick: i * beat, bpm: quarterBpm * (1 + (p.rubato as number) * Math.sin(phase + (2 * Math.PI * i) / total) + 0.015 * (2 * rng.next() - 1)) }));
  }
  return song;
}

/** Folder for rendered pieces: `$DEEPCUT_CACHE/audio-midi-v1` or the system temp folder. */
export function renderCacheDir(): string {
  return join(process.env.DEEPCUT_CACHE ?? join(tmpdir(), 'deepcut-cache'), 'audio-midi-v1');
}

/** Run a command, resolving with its stdout+stderr, rejecting with them on a non-zero exit. */
export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    let out = '';
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} exited with ${code}: ${out.slice(-500)}`))));
  });
}

/** Whether `cmd -h`-style probing finds the program on the PATH. */
export function hasProgram(cmd: string, args: string[] = ['--version']): Promise<boolean> {
  return new Promise((res) => {
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('error', () => res(false));
    p.on('close', () => res(true));
  });
}

/** Integrated loudness (LUFS) that ffmpeg's `ebur128` filter reports for a file. */
export async function ffmpegLoudness(file: string): Promise<number> {
  const out = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-af', 'ebur128=framelog=verbose', '-f', 'null', '-']);
  const m = /Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS/.exec(out);
  if (!m) throw new Error(`no integrated loudness in ffmpeg output for ${file}`);
  return m[1] === '-inf' ? -Infinity : Number(m[1]);
}

/**
 * Render a piece to `<cache>/<id>.wav` with timidity (44.1 kHz stereo 16-bit) unless present;
 * also measures ffmpeg's loudness once (cached beside it as JSON when ffmpeg exists).
 */
export async function renderPiece(p: PieceLabel, dir = renderCacheDir()): Promise<{ wav: string; ffmpegLufs: number | null }> {
  mkdirSync(dir, { recursive: true });
  const wav = join(dir, `${p.id}.wav`);
  const meta = join(dir, `${p.id}.json`);
  const fingerprint = JSON.stringify(p);
  if (existsSync(wav) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { fingerprint: string; ffmpegLufs: number | null };
    if (m.fingerprint === fingerprint) return { wav, ffmpegLufs: m.ffmpegLufs };
  }
  const mid = join(dir, `${p.id}.mid`);
  writeFileSync(mid, writeMidi(pieceSong(p)));
  const tmp = wav + '.part.wav';
  await run('timidity', ['-Ow', '-s', '44100', '-A', String(p.amplify), '-o', tmp, mid]);
  renameSync(tmp, wav);
  let ffmpegLufs: number | null = null;
  if (await hasProgram('ffmpeg', ['-version'])) ffmpegLufs = await ffmpegLoudness(wav);
  writeFileSync(meta, JSON.stringify({ fingerprint, ffmpegLufs }));
  return { wav, ffmpegLufs };
}
