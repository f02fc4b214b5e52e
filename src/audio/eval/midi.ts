/**
 * A minimal Standard MIDI File writer (format 1): a conductor track with tempo, time signature and
 * key signature, then one track per part. Enough to write test pieces that `timidity` renders.
 */

/** One note: start and length in ticks, MIDI pitch 0–127, velocity 1–127. */
export interface MidiNote {
  tick: number;
  duration: number;
  pitch: number;
  velocity: number;
}

export interface MidiPart {
  name: string;
  /** MIDI channel 0–15 (9 = General MIDI percussion, "channel 10"). */
  channel: number;
  /** General MIDI program 0–127 (ignored on channel 9). */
  program: number;
  notes: MidiNote[];
  /** Pitch bend held from the start, −8192…8191 (GM's default range ±2 semitones: 4096 = +100 cents). */
  pitchBend?: number;
}

export interface MidiSong {
  /** Ticks per quarter note. */
  ppq: number;
  /** Quarter notes per minute. */
  bpm: number;
  /** Time signature numerator / denominator (denominator a power of two). */
  numerator: number;
  denominator: number;
  /** Key signature: sharps (+) or flats (−), −7…7, and minor flag. */
  keySignature?: { sharps: number; minor: boolean };
  /** A tempo map (quarter notes per minute from `tick` on); without it `bpm` holds throughout. */
  tempos?: { tick: number; bpm: number }[];
  parts: MidiPart[];
}

function vlq(n: number): number[] {
  const out = [n & 0x7f];
  n >>>= 7;
  while (n > 0) {
    out.unshift((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  return out;
}

function chunk(type: string, body: number[]): number[] {
  const len = body.length;
  return [...[...type].map((c) => c.charCodeAt(0)), (len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, ...body];
}

type Ev = { tick: number; order: number; bytes: number[] };

function track(events: Ev[]): number[] {
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const body: number[] = [];
  let last = 0;
  for (const e of events) {
    body.push(...vlq(e.tick - last), ...e.bytes);
    last = e.tick;
  }
  body.push(0, 0xff, 0x2f, 0x00); // end of track
  return chunk('MTrk', body);
}

/** Encode a song as a format-1 Standard MIDI File. */
export function writeMidi(song: MidiSong): Uint8Array {
  const tempo = (tick: number, bpm: number): Ev => {
    const us = Math.round(60_000_000 / bpm);
    return { tick, order: 0, bytes: [0xff, 0x51, 0x03, (us >>> 16) & 255, (us >>> 8) & 255, us & 255] };
  };
  const conductor: Ev[] = [
    ...(song.tempos?.length ? song.tempos.map((t) => tempo(t.tick, t.bpm)) : [tempo(0, song.bpm)]),
    { tick: 0, order: 0, bytes: [0xff, 0x58, 0x04, song.numerator, Math.log2(song.denominator), 24, 8] },
  ];
  if (song.keySignature) conductor.push({ tick: 0, order: 0, bytes: [0xff, 0x59, 0x02, song.keySignature.sharps & 255, song.keySignature.minor ? 1 : 0] });
  const tracks = [track(conductor)];
  for (const p of song.parts) {
    const name = [...Buffer.from(p.name, 'utf8')];
    const ev: Ev[] = [{ tick: 0, order: 0, bytes: [0xff, 0x03, ...vlq(name.length), ...name] }];
    if (p.channel !== 9) ev.push({ tick: 0, order: 1, bytes: [0xc0 | p.channel, p.program & 127] });
    if (p.pitchBend) {
      const v = Math.max(0, Math.min(16383, 8192 + Math.round(p.pitchBend)));
      ev.push({ tick: 0, order: 1, bytes: [0xe0 | p.channel, v & 127, v >>> 7] });
    }
    for (const n of p.notes) {
      // note-offs sort before note-ons at the same tick (order 2 < 3) so repeated notes retrigger
      ev.push({ tick: n.tick, order: 3, bytes: [0x90 | p.channel, n.pitch & 127, Math.max(1, Math.min(127, n.velocity))] });
      ev.push({ tick: n.tick + Math.max(1, n.duration), order: 2, bytes: [0x80 | p.channel, n.pitch & 127, 0] });
    }
    tracks.push(track(ev));
  }
  const header = chunk('MThd', [0, 1, (tracks.length >>> 8) & 255, tracks.length & 255, (song.ppq >>> 8) & 255, song.ppq & 255]);
  return Uint8Array.from([...header, ...tracks.flat()]);
}
