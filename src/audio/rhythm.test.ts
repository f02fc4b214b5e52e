import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderClip, type ClipSpec } from '../generate/index.ts';
import { ANALYSIS_RATE } from './decode.ts';
import { analyzeAudio } from './features.ts';
import { bassSupport, subdivision, quartersOfCompound, eighthsOfCompound } from './rhythm.ts';

// Seeded clips from the demo world's synthesizer, whose labels are known exactly.
const clip = (o: Partial<ClipSpec>, seed = 5) =>
  renderClip(
    { seconds: 15, tempoBpm: 100, meter: '4/4', key: 7, mode: 'major', loudnessDbfs: -12, chords: 'piano', bass: 'electric-bass', lead: 'flute', drums: 'rock', progression: 0, brightness: 0.5, voice: 3, ...o },
    { sampleRate: ANALYSIS_RATE, seed },
  );

test('bassSupport: a bass every other beat supports the beat and the half bar, not the eighths', () => {
  const fr = 86;
  const beat = 40; // frames
  const bass = new Float32Array(30 * fr);
  for (let t = 0; t < bass.length; t += 2 * beat) bass[t] = 1;
  const s = bassSupport(bass, fr, 4 * beat, 10);
  assert.ok(s(beat) > 0.9, `beat ${s(beat)}`);
  assert.ok(s(2 * beat) > 0.9, `half bar ${s(2 * beat)}`);
  assert.ok(s(beat / 2) < 0.4, `eighth ${s(beat / 2)}`); // its multiples ½, 1, 1½ beats miss the bass
  // no periodic bass: everything is supported
  assert.equal(bassSupport(new Float32Array(30 * fr), fr, 4 * beat, 10)(beat / 2), 1);
});

test('a reggae one-drop (kick and rim on beat 3, off-beat chords, eighth hats) is heard at its tempo, not double', () => {
  for (const [bpm, seed] of [[72, 1], [80, 2], [86, 3]] as const) {
    const f = analyzeAudio({ channels: [clip({ tempoBpm: bpm, drums: 'reggae', chords: 'organ', bass: 'electric-bass' }, seed)], sampleRate: ANALYSIS_RATE });
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `${bpm} BPM: ${f.tempo_bpm}`);
    assert.equal(f.time_signature, 4);
  }
});

test('6/8 (the beat a dotted quarter divided in three) is reported as time signature 6, two beats a bar', () => {
  const folk = { drums: 'folk', chords: 'acoustic-guitar', bass: 'upright-bass', lead: 'fiddle' } as const;
  const rock = { drums: 'rock', chords: 'distorted-guitar', bass: 'electric-bass', lead: 'distorted-guitar' } as const;
  for (const [bpm, style, seed] of [[96, folk, 1], [110, folk, 2], [120, rock, 3]] as const) {
    const drums = style.drums;
    const f = analyzeAudio({ channels: [clip({ tempoBpm: bpm, meter: '6/8', ...style }, seed)], sampleRate: ANALYSIS_RATE });
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `${bpm} BPM ${drums}: ${f.tempo_bpm}`);
    assert.equal(f.time_signature, 6, `${bpm} BPM ${drums}`);
    // downbeats every other beat
    const i = f.beats_s.indexOf(f.downbeats_s[0]);
    assert.deepEqual(f.downbeats_s.slice(0, 3), [f.beats_s[i], f.beats_s[i + 2], f.beats_s[i + 4]]);
  }
  // the same music in simple meters keeps 3 and 4
  for (const meter of ['3/4', '4/4'] as const) {
    const f = analyzeAudio({ channels: [clip({ tempoBpm: 100, meter, ...folk }, 4)], sampleRate: ANALYSIS_RATE });
    assert.equal(f.time_signature, meter === '3/4' ? 3 : 4, meter);
  }
});

test('slow 6/8 heard as 3/4 at its quarter notes (a hemiola) is 6/8 at its dotted quarters; waltzes at the same tempo stay 3', () => {
  const folk = { drums: 'folk', chords: 'acoustic-guitar', bass: 'upright-bass', lead: 'fiddle' } as const;
  for (const [bpm, seed] of [[42, 1], [46, 2]] as const) {
    const f = analyzeAudio({ channels: [clip({ tempoBpm: bpm, meter: '6/8', ...folk }, seed)], sampleRate: ANALYSIS_RATE });
    assert.equal(f.time_signature, 6, `${bpm} BPM`);
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `${bpm} BPM: ${f.tempo_bpm}`);
    assert.ok(Math.abs(f.tempo_alt_bpm / (1.5 * bpm) - 1) < 0.04, `the quarter-note level is the runner-up: ${f.tempo_alt_bpm}`);
    // two beats a bar, the second halfway through it
    const i = f.beats_s.indexOf(f.downbeats_s[0]);
    assert.deepEqual(f.downbeats_s.slice(0, 2), [f.beats_s[i], f.beats_s[i + 2]]);
  }
  const pop = { drums: 'rock', chords: 'piano', bass: 'electric-bass', lead: 'synth-lead' } as const;
  for (const [bpm, style, seed] of [[63, folk, 3], [138, folk, 4], [162, pop, 5]] as const) {
    const f = analyzeAudio({ channels: [clip({ tempoBpm: bpm, meter: '3/4', ...style }, seed)], sampleRate: ANALYSIS_RATE });
    assert.equal(f.time_signature, 3, `waltz at ${bpm} BPM`);
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `waltz at ${bpm} BPM: ${f.tempo_bpm}`);
  }
});

test('quartersOfCompound: the low band halfway between beats 2 and 3 of a three-beat bar makes it 6/8', () => {
  const period = 40;
  const beats = Array.from({ length: 30 }, (_, i) => 20 + i * period);
  const env = (mid: number, side: number) => {
    const o = new Float32Array(beats[beats.length - 1] + period);
    for (let i = 0; i + 2 < beats.length; i += 3) {
      o[beats[i]] = 1;
      o[beats[i + 1]] = side;
      o[beats[i + 2]] = side;
      o[beats[i + 1] + period / 2] = mid;
    }
    return o;
  };
  const six = quartersOfCompound(beats, env(0.8, 0.2), 0, 2);
  assert.ok(six, '6/8 with its second dotted quarter mid-bar');
  assert.deepEqual(six.beats.slice(0, 4), [20, 80, 140, 200]);
  assert.equal(quartersOfCompound(beats, env(0.1, 0.6), 0, 2), undefined, 'a waltz: the beats carry the accent');
});

test('eighthsOfCompound: six beats whose fourth has a lighter accent and no chord change are the eighths of 6/8; a waltz is not', () => {
  const cycle = (pattern: number[], bars = 8) => Array.from({ length: 6 * bars }, (_, i) => pattern[i % 6]);
  // 6/8 at the eighths: the bar's start accented and changing chord, the fourth beat a lighter accent, no change
  const six = eighthsOfCompound(cycle([3, -0.5, -0.5, 0.8, -0.5, -0.5]), cycle([2, -0.4, -0.4, 0.1, -0.4, -0.4]));
  assert.ok(six, '6/8');
  assert.equal(six.downbeat, 0);
  // the same shifted by two beats: the downbeat follows
  assert.equal(eighthsOfCompound(cycle([-0.5, -0.5, 3, -0.5, -0.5, 0.8]), cycle([-0.4, -0.4, 2, -0.4, -0.4, 0.1]))?.downbeat, 2);
  // a waltz: every third beat a downbeat with a chord change
  assert.equal(eighthsOfCompound(cycle([3, -0.5, -0.5, 2.8, -0.5, -0.5]), cycle([2, -0.4, -0.4, 1.9, -0.4, -0.4])), undefined);
  // a waltz whose chord lasts two bars still has its accent on the fourth beat
  assert.equal(eighthsOfCompound(cycle([3, -0.5, -0.5, 2.8, -0.5, -0.5]), cycle([2, -0.4, -0.4, 0.1, -0.4, -0.4])), undefined);
  // too few beats to tell
  assert.equal(eighthsOfCompound(cycle([3, -0.5, -0.5, 0.8, -0.5, -0.5], 3), cycle([2, -0.4, -0.4, 0.1, -0.4, -0.4], 3)), undefined);
});

test('subdivision: eighths at the half beat are binary, triplets at the thirds are ternary', () => {
  const period = 36;
  const beats = Array.from({ length: 20 }, (_, i) => 10 + i * period);
  const env = (offsets: number[]) => {
    const o = new Float32Array(beats[beats.length - 1] + period);
    for (const b of beats) {
      o[b] = 1;
      for (const f of offsets) o[b + Math.round(f * period)] = 0.5;
    }
    return o;
  };
  const bin = subdivision(beats, env([1 / 2]), period);
  assert.ok(bin.binary > 0.3 && bin.ternary < 0.05, JSON.stringify(bin));
  const ter = subdivision(beats, env([1 / 3, 2 / 3]), period);
  assert.ok(ter.ternary > 0.3 && ter.binary < 0.05, JSON.stringify(ter));
});

test('a fast backbeat (metal at 184, the snare on 2 and 4) is not halved: off-beats that carry the snare are beats', () => {
  const metal = { drums: 'metal', chords: 'distorted-guitar', bass: 'electric-bass', lead: 'distorted-guitar', mode: 'minor' } as const;
  for (const [bpm, seed] of [[176, 1], [184, 2]] as const) {
    const f = analyzeAudio({ channels: [clip({ tempoBpm: bpm, ...metal }, seed)], sampleRate: ANALYSIS_RATE });
    assert.ok(Math.abs(f.tempo_bpm / bpm - 1) < 0.04, `${bpm} BPM: ${f.tempo_bpm}`);
  }
});
