/**
 * `audio-midi`: tempo, meter, key/mode and loudness accuracy on rendered MIDI pieces with known
 * labels (src/audio/eval/pieces.ts). Renders with timidity once and caches under the temp folder
 * ($DEEPCUT_CACHE/audio-midi-v1); compares loudness with ffmpeg's ebur128 filter. Reports itself
 * skipped, with the reason, when timidity is not installed.
 */
import type { EvalSuite, EvalReport } from '../suite.ts';
import { pieceLabels, renderPiece, hasProgram, type PieceLabel } from '../../audio/index.ts';
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
  meter: number;
  key: number;
  mode: number;
  profile: Float64Array;
  lufs: number | null;
  ffmpegLufs: number | null;
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
    const labels = pieceLabels(n, 7);
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
    const rows: Row[] = [];
    for (let i = 0; i < labels.length; i++) {
      const a = analyzeDetailed(await decodeFile(renders[i].wav));
      const f = a.features;
      rows.push({ p: labels[i], bpm: f.tempo_bpm, meter: f.time_signature, key: f.key, mode: f.mode, profile: keyProfileOf(a.chroma), lufs: f.loudness_lufs, ffmpegLufs: renders[i].ffmpegLufs });
    }
    const analyzeS = (performance.now() - t1) / 1000;
    const N = rows.length;
    let a1 = 0, a2 = 0, meterOk = 0, keyOk = 0, mirex = 0;
    const misses: (string | number | null)[][] = [];
    for (const r of rows) {
      const h = tempoHits(r.bpm, r.p.bpm);
      a1 += +h.acc1;
      a2 += +h.acc2;
      meterOk += +(r.meter === r.p.beatsPerBar);
      const s = mirexKeyScore(r, r.p);
      keyOk += +(s === 1);
      mirex += s;
      if (!h.acc1 || r.meter !== r.p.beatsPerBar || s < 1)
        misses.push([r.p.id, r.p.bpm, r.bpm, `${r.p.beatsPerBar}/4`, `${r.meter}/${r.meter === 6 ? 8 : 4}`, keyName(r.p.key, r.p.mode), keyName(r.key, r.mode), r.p.hats]);
    }
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
    const metrics: Record<string, number | string> = {
      pieces: N,
      tempo_accuracy1: a1 / N,
      tempo_accuracy2: a2 / N,
      key_exact: keyOk / N,
      key_mirex: mirex / N,
      meter_accuracy: meterOk / N,
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
        { title: 'key profiles compared on the same chroma', columns: ['profile', 'exact', 'mirex'], rows: profiles },
        { title: `pieces with an error (${misses.length})`, columns: ['id', 'bpm', 'est bpm', 'meter', 'est', 'key', 'est key', 'hats'], rows: misses.slice(0, 40) },
      ],
      notes: [`cache: ${renders[0] ? renders[0].wav.replace(/\/[^/]+$/, '') : ''}; ${N} pieces of ~20 s, seed 7`],
    };
  },
};
