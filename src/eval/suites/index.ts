/** Every evaluation `deepcut eval` runs, in order. Add one line per suite. */
import type { EvalSuite } from '../suite.ts';
import { datasets } from './datasets.ts';
import { audioMidi } from './audio-midi.ts';
import { cfHetrec, cfMl100k, cfMovielens } from './cf.ts';
import { banditSim } from './bandit-sim.ts';
import { audioCold } from './audio-cold.ts';
import { textHetrec } from './text.ts';
import { playlistsDemo } from './playlists.ts';
import { banditObd } from './bandit-obd.ts';

export const suites: EvalSuite[] = [datasets, audioMidi, cfHetrec, cfMovielens, cfMl100k, textHetrec, playlistsDemo, audioCold, banditSim, banditObd];
