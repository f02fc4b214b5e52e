/**
 * The audio CNN on the default demo world's audio (400 clips × 15 s, seed 7; `--clips N` for
 * another count): training time (ALS factors as targets, the pipeline's default CNN settings) and
 * embedding speed (decode + log-mel patches + forward pass) in × real time, wall and CPU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench } from './bench.ts';
import { peakRssMb } from './bench.ts';
import { generateWorld } from '../src/generate/world.ts';
import { readJsonl } from '../src/generate/testkit.ts';
import type { Listen, Track } from '../src/domain/schemas.ts';
import { IdMap, type TrackId, type UserId } from '../src/domain/ids.ts';
import { columns, fitAls } from '../src/eval/suites/audio-cold.ts';
import { decodeFile } from '../src/audio/decode.ts';
import { melPatches } from '../src/audio/cnn.ts';
import { fitFactorCnn, inferTracks, DEFAULT_FACTOR_CNN } from '../src/audio/coldstart.ts';

const cpuS = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

/** Wall and process-CPU seconds of `f`. */
async function measure<T>(f: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await f();
  return { value, wall: (performance.now() - t0) / 1000, cpu: cpuS(process.cpuUsage(c0)) };
}

const bench: Bench = {
  name: 'cnn',
  description: "audio CNN on the default demo world's audio: training time on ALS factors, embedding speed (× real time)",
  async run(args) {
    const i = args.indexOf('--clips');
    const clips = i >= 0 ? Number(args[i + 1]) : 400;
    const dir = mkdtempSync(join(tmpdir(), 'dc-cnn-bench-'));
    try {
      const gen = await measure(() => generateWorld({ size: 'default', seed: 7, out: dir, audioClips: clips }));
      const tracks = readJsonl<Track>(join(dir, 'tracks.jsonl'));
      const listens = readJsonl<Listen>(join(dir, 'listens.jsonl'));
      const trackMap = new IdMap<TrackId>(tracks.map((t) => t.track_id as TrackId));
      const als = await measure(() => fitAls(columns(listens, trackMap, new IdMap<UserId>()), { factors: 64, iterations: 15, seed: 42, threads: 2 }));
      const F = 64;
      const itemF = als.value.itemFactors();
      const streams = new Float64Array(tracks.length);
      for (const l of listens) if (!l.skipped && l.ms_played >= 30_000) streams[trackMap.row(l.track_id)]++;
      const audio = tracks.map((t, r) => (t.audio_path ? r : -1)).filter((r) => r >= 0);
      const files = audio.map((r) => join(dir, tracks[r].audio_path!));
      // embedding = decode + 8 log-mel patches + forward pass, per track, one thread
      const mel = await measure(async () => {
        const out: { patches: Float32Array[]; seconds: number }[] = [];
        for (const f of files) {
          const a = await decodeFile(f);
          out.push({ patches: melPatches(a, 8), seconds: a.channels[0].length / a.sampleRate });
        }
        return out;
      });
      const audioS = mel.value.reduce((a, x) => a + x.seconds, 0);
      const train = audio.map((r, j) => ({ r, j })).filter(({ r }) => streams[r] > 0).map(({ r, j }) => ({ patches: mel.value[j].patches, target: itemF.slice(r * F, (r + 1) * F) }));
      const fit = await measure(() => fitFactorCnn(train, F, DEFAULT_FACTOR_CNN));
      await inferTracks(fit.value.cnn, mel.value.slice(0, 4).map((x) => x.patches)); // warm-up
      const infer = await measure(() => inferTracks(fit.value.cnn, mel.value.map((x) => x.patches)));
      fit.value.cnn.dispose();
      const embedWall = mel.wall + infer.wall;
      const embedCpu = mel.cpu + infer.cpu;
      return {
        figures: {
          clips: audio.length,
          audio_s: audioS,
          train_tracks: fit.value.trainTracks,
          epochs: DEFAULT_FACTOR_CNN.epochs,
          generate_world_s: gen.wall,
          als_fit_s: als.wall,
          train_s: fit.wall,
          train_cpu_s: fit.cpu,
          train_ms_per_patch: (1000 * fit.wall) / (fit.value.trainTracks * DEFAULT_FACTOR_CNN.epochs),
          final_loss: fit.value.losses[fit.value.losses.length - 1],
          validation_pearson: fit.value.validation.pearson,
          validation_cosine: fit.value.validation.cosine,
          mel_s: mel.wall,
          infer_s: infer.wall,
          embedding_realtime_factor: audioS / embedWall,
          embedding_realtime_factor_cpu: audioS / embedCpu,
          forward_only_realtime_factor: audioS / infer.wall,
          peak_rss_mb: peakRssMb(),
        },
        targets: { train_s: '<= 300', embedding_realtime_factor: '>= 30' },
        notes: [
          `CNN: ${DEFAULT_FACTOR_CNN.channels} channels, embedding ${DEFAULT_FACTOR_CNN.embedding}, ${DEFAULT_FACTOR_CNN.epochs} epochs of one random 2.97 s patch per track, batch ${DEFAULT_FACTOR_CNN.batchSize}, Adam ${DEFAULT_FACTOR_CNN.learningRate}; TensorFlow.js wasm backend, one thread; targets: ALS (64 factors, 15 iterations) item factors of the clips with streams, 10 % held out for validation_*.`,
          'embedding = WAV decode + 8 log-mel patches (STFT 1024/512, 64 mel bands) + forward pass, per track, over the clip length; forward_only excludes decode and mel.',
          'cpu_s / _cpu figures are this process\'s CPU time (user + system): the fair figure on a machine shared with other work; wall time is the target.',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
