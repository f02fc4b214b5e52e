/**
 * `audio-midi`: tempo, meter, key/mode and loudness accuracy on rendered MIDI pieces with known
 * labels (src/audio/eval/pieces.ts). Renders with timidity once and caches under the temp folder
 * ($DEEPCUT_CACHE/audio-midi-v1); compares loudness with ffmpeg's ebur128 filter. Reports itself
 * skipped, with the reason, when timidity is not installed.
 *
 * Besides the base set (144 pieces, the headline figures) it reports each variety group
 * separately — slow, rubato, detuned, off-tonic, duple, compound (12 pieces each) — and a held-out
 * mixed set (24 pieces of another seed) that no threshold was tuned on.
 */
import type { EvalSuite, EvalReport } from '../suite.ts';
import { pieceLabels, varietyLabels, renderPiece, hasProgram, PIECE_GROUPS, type PieceLabel } from '../../audio/index.ts';
import { decodeFile } from '../../audio/index.ts';
import { analyzeDetailed, keyProfileOf } from '../../audio/index.ts';
import { estimateKey, mirexKeyScore, KEY_METHODS, DEFAULT_KEY_PROFILE } from '../../audio/index.ts';

const KEYS = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const keyName = (k: number, m: number) => (k < 0 ? 'none' : `${KEYS[k]} ${m === 1 ? 'major' : 'minor'}`);

/** Tempo within 4 % of the truth (Accuracy1), or of ×2, ×½, ×3, ×⅓ of it (Accuracy2). */
export function tempoHits(est: number, truth: number): { acc1: boolean; acc2: boolean } {
  const near = (a: number, b: number) => Math.abs(a - b) <= 0.04 * b;
  const acc1 = near(est, truth);
  return { acc1, acc2: acc1 || [2, 0.5, 3, 1 / 3].some((f) => near(est, truth * f)) };
}

interface Row {
  p: PieceLabel;
  bpm: number;
  altBpm: number;
  tuningCents: number;
  meter: number;
  key: number;
  mode: number;
  profile: Float64Array;
  lufs: number | null;
  ffmpegLufs: number | null;
}

const meterName = (m: number) => (m === 0 ? 'none' : m === 6 ? '6/8' : `${m}/4`);

/** Tempo, key, meter and tuning figures of a set of analysed pieces. */
function groupAccuracy(rows: Row[]): { n: number; acc1: number; acc2: number; keyExact: number; mirex: number; meter: number; tuningErr: number } {
  const n = Math.max(1, rows.length);
  let a1 = 0, a2 = 0, exact = 0, mirex = 0, meter = 0, tuning = 0;
  for (const r of rows) {
    const h = tempoHits(r.bpm, r.p.bpm);
    a1 += +h.acc1;
    a2 += +h.acc2;
    const s = mirexKeyScore(r, r.p);
    exact += +(s === 1);
    mirex += s;
    meter += +(r.meter === r.p.beatsPerBar);
    tuning += Math.abs(r.tuningCents - (r.p.detuneCents ?? 0));
  }
  return { n: rows.length, acc1: a1 / n, acc2: a2 / n, keyExact: exact / n, mirex: mirex / n, meter: meter / n, tuningErr: tuning / n };
}

export const audioMidi: EvalSuite = {
  name: 'audio-midi',
  description: 'audio features on rendered MIDI pieces (timidity): tempo Accuracy1/2, key + mode, meter, loudness vs ffmpeg ebur128',
  needs: [],
  async run(ctx): Promise<EvalReport> {
    if (!(await hasProgram('timidity', ['-v']))) {
      // The runner only skips on missing data folders; a missing renderer is reported as a skip here.
      const reason = 'skipped: timidity is not installed (apt-get install timidity fluid-soundfont-gm ffmpeg)';
      return { metrics: { skipped: reason }, tables: [], notes: [reason] };
    }
    const n = ctx.quick ? 24 : Number(process.env.DEEPCUT_AUDIO_MIDI_PIECES ?? 144);
    const perGroup = ctx.quick ? 4 : 12;
    const base = pieceLabels(n, 7);
    const variety = varietyLabels(perGroup, 17);
    const heldOut = varietyLabels(ctx.quick ? 12 : 24, 1009, true);
    const labels = [...base, ...variety, ...heldOut];
    const t0 = performance.now();
    // render two at a time (timidity is single-threaded)
    const renders: { wav: string; ffmpegLufs: number | null }[] = new Array(labels.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.max(1, ctx.threads) }, async () => {
        while (next < labels.length) {
          const i = next++;
          renders[i] = await renderPiece(labels[i]);
        }
      }),
    );
    const renderS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const all: Row[] = [];
    for (let i = 0; i < labels.length; i++) {
      const a = analyzeDetailed(await decodeFile(renders[i].wav));
      const f = a.features;
      all.push({ p: labels[i], bpm: f.tempo_bpm, altBpm: f.tempo_alt_bpm, tuningCents: f.tuning_cents, meter: f.time_signature, key: f.key, mode: f.mode, profile: keyProfileOf(a.chroma), lufs: f.loudness_lufs, ffmpegLufs: renders[i].ffmpegLufs });
    }
    const analyzeS = (performance.now() - t1) / 1000;
    const rows = all.slice(0, base.length);
    const N = rows.length;
    const misses: (string | number | null)[][] = [];
    for (const r of all) {
      const h = tempoHits(r.bpm, r.p.bpm);
      const s = mirexKeyScore(r, r.p);
      if (!h.acc1 || r.meter !== r.p.beatsPerBar || s < 1)
        misses.push([r.p.id, r.p.group ?? 'base', r.p.bpm, r.bpm, r.altBpm, meterName(r.p.beatsPerBar), meterName(r.meter), keyName(r.p.key, r.p.mode), keyName(r.key, r.mode), r.p.hats]);
    }
    const acc = groupAccuracy(rows);
    const profiles = KEY_METHODS.map((name) => {
      let exact = 0, score = 0;
      for (const r of rows) {
        const e = estimateKey(r.profile, name);
        const s = mirexKeyScore(e, r.p);
        exact += +(s === 1);
        score += s;
      }
      return [name + (name === DEFAULT_KEY_PROFILE ? ' (default)' : ''), exact / N, score / N];
    });
    const diffs = rows.filter((r) => r.lufs !== null && r.ffmpegLufs !== null && Number.isFinite(r.ffmpegLufs)).map((r) => Math.abs((r.lufs as number) - (r.ffmpegLufs as number)));
    const held = groupAccuracy(all.slice(base.length + variety.length));
    const metrics: Record<string, number | string> = {
      pieces: N,
      tempo_accuracy1: acc.acc1,
      tempo_accuracy2: acc.acc2,
      key_exact: acc.keyExact,
      key_mirex: acc.mirex,
      meter_accuracy: acc.meter,
      heldout_pieces: held.n,
      heldout_tempo_accuracy1: held.acc1,
      heldout_tempo_accuracy2: held.acc2,
      heldout_key_mirex: held.mirex,
      heldout_meter_accuracy: held.meter,
      loudness_mean_abs_diff_lu: diffs.length ? diffs.reduce((x, y) => x + y, 0) / diffs.length : 'no ffmpeg',
      loudness_max_abs_diff_lu: diffs.length ? Math.max(...diffs) : 'no ffmpeg',
      render_s: renderS,
      analyze_s: analyzeS,
    };
    return {
      metrics,
      tables: [
        {
          title: 'accuracy (targets: Accuracy1 ≥ 0.95, Accuracy2 ≥ 0.99, key exact ≥ 0.90, MIREX ≥ 0.93, meter ≥ 0.90, loudness ≤ 0.5 LU)',
          columns: ['figure', 'value'],
          rows: Object.entries(metrics).map(([k, v]) => [k, v]),
        },
        {
          title: `each group separately (base: seed 7; the variety groups: seed 17, ${perGroup} each; held-out: seed 1009, mixed, tuned on by nothing)`,
          columns: ['group', 'pieces', 'tempo Acc1', 'tempo Acc2', 'key exact', 'key MIREX', 'meter', 'tuning |err| cents'],
          rows: [
            ...PIECE_GROUPS.map((g) => {
              const a = groupAccuracy(g === 'base' ? rows : all.slice(base.length, base.length + variety.length).filter((r) => r.p.group === g));
              return [g, a.n, a.acc1, a.acc2, a.keyExact, a.mirex, a.meter, a.tuningErr];
            }),
            ['held-out', held.n, held.acc1, held.acc2, held.keyExact, held.mirex, held.meter, held.tuningErr],
          ],
        },
        { title: 'key profiles compared on the same chroma (base set)', columns: ['profile', 'exact', 'mirex'], rows: profiles },
        { title: `pieces with an error (${misses.length})`, columns: ['id', 'group', 'bpm', 'est bpm', 'runner-up', 'meter', 'est', 'key', 'est key', 'hats'], rows: misses.slice(0, 80) },
      ],
      notes: [`cache: ${renders[0] ? renders[0].wav.replace(/\/[^/]+$/, '') : ''}; ${N} base pieces of ~20 s (seed 7), ${variety.length} variety and ${heldOut.length} held-out pieces`],
    };
  },
};
