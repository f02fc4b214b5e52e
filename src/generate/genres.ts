/**
 * The musical styles of the demo world: ten genres, each with its own tempo range, meters, modes,
 * loudness, instruments, drum kit, track lengths, share of listening and vocabulary. Everything the
 * generator draws for a genre's artists, tracks, texts and audio comes from here.
 */

/** Time signature. For 6/8 the labelled beat is the dotted quarter (two beats a bar). */
export type Meter = '3/4' | '4/4' | '6/8';
export type Mode = 'major' | 'minor';

/** Pitched instruments the synthesizer knows (see synth.ts `timbres`). */
export type Instrument =
  | 'piano'
  | 'rhodes'
  | 'organ'
  | 'synth-pad'
  | 'synth-lead'
  | 'saw-synth'
  | 'distorted-guitar'
  | 'acoustic-guitar'
  | 'electric-bass'
  | 'upright-bass'
  | 'sub-bass'
  | 'strings'
  | 'sax'
  | 'fiddle'
  | 'flute'
  | 'brass'
  | 'bell';

/** Drum kits (see synth.ts `renderDrums`); each one has its own patterns per meter. */
export type DrumKit = 'rock' | 'metal' | 'electronic' | 'hiphop' | 'brush' | 'reggae' | 'timpani' | 'folk' | 'soft';

export interface GenreStyle {
  name: string;
  /** Tempo range in beats per minute (quarter notes; dotted quarters in 6/8). */
  tempo: readonly [number, number];
  /** Meters with their weights. */
  meters: readonly (readonly [Meter, number])[];
  /** Probability that a track is in a major key. */
  majorShare: number;
  /** Target RMS loudness range of a clip, dBFS. */
  loudness: readonly [number, number];
  chords: readonly Instrument[];
  bass: readonly Instrument[];
  lead: readonly Instrument[];
  drums: DrumKit;
  /** Track length range, seconds. */
  durationS: readonly [number, number];
  /** Relative share of all listening (before per-user taste). */
  share: number;
  /** Two-letter country codes where the genre's artists mostly come from. */
  countries: readonly string[];
  /** Words that critics use about this genre (text signal). */
  words: readonly string[];
  /** Words for artist names and titles. */
  nameWords: readonly string[];
}

export const GENRES: readonly GenreStyle[] = [
  {
    name: 'pop',
    tempo: [96, 128],
    meters: [['4/4', 1]],
    majorShare: 0.8,
    loudness: [-13, -10],
    chords: ['piano', 'synth-pad'],
    bass: ['electric-bass', 'sub-bass'],
    lead: ['synth-lead', 'bell', 'flute'],
    drums: 'electronic',
    durationS: [170, 230],
    share: 0.2,
    countries: ['US', 'GB', 'SE', 'KR', 'AU'],
    words: ['catchy', 'chorus', 'hook', 'radio', 'anthem', 'glossy', 'sugary', 'dance', 'summer', 'heartbreak', 'chart', 'single', 'polished', 'bubblegum', 'earworm', 'sing-along', 'upbeat', 'sparkling', 'romance', 'feel-good'],
    nameWords: ['Sugar', 'Neon', 'Candy', 'Star', 'Velvet', 'Golden', 'Heart', 'Bloom', 'Honey', 'Crystal', 'Summer', 'Kiss'],
  },
  {
    name: 'rock',
    tempo: [108, 150],
    meters: [['4/4', 0.85], ['6/8', 0.15]],
    majorShare: 0.6,
    loudness: [-12, -9],
    chords: ['distorted-guitar', 'organ'],
    bass: ['electric-bass'],
    lead: ['distorted-guitar', 'synth-lead'],
    drums: 'rock',
    durationS: [180, 280],
    share: 0.15,
    countries: ['US', 'GB', 'AU', 'CA', 'DE'],
    words: ['riff', 'guitar', 'garage', 'amplifier', 'raw', 'gritty', 'anthemic', 'stadium', 'power-chord', 'feedback', 'drummer', 'rebellious', 'fuzz', 'indie', 'grunge', 'sweaty', 'live', 'loud', 'distortion', 'crunchy'],
    nameWords: ['Stone', 'Wolves', 'Ravens', 'Highway', 'Thunder', 'Rust', 'Iron', 'Rebels', 'Static', 'Engine', 'Crows', 'Fire'],
  },
  {
    name: 'metal',
    tempo: [140, 188],
    meters: [['4/4', 0.9], ['3/4', 0.1]],
    majorShare: 0.1,
    loudness: [-10, -8],
    chords: ['distorted-guitar'],
    bass: ['electric-bass'],
    lead: ['distorted-guitar'],
    drums: 'metal',
    durationS: [220, 400],
    share: 0.06,
    countries: ['FI', 'NO', 'SE', 'DE', 'US'],
    words: ['brutal', 'blast-beat', 'growl', 'doom', 'shred', 'headbang', 'dark', 'thrash', 'apocalyptic', 'crushing', 'double-kick', 'breakdown', 'occult', 'sludge', 'heavy', 'scream', 'mosh', 'ferocious', 'abyss', 'chug'],
    nameWords: ['Doom', 'Grave', 'Skull', 'Abyss', 'Blood', 'Storm', 'Black', 'Throne', 'Wrath', 'Serpent', 'Ash', 'Void'],
  },
  {
    name: 'hip-hop',
    tempo: [80, 98],
    meters: [['4/4', 1]],
    majorShare: 0.25,
    loudness: [-12, -9],
    chords: ['rhodes', 'piano', 'synth-pad'],
    bass: ['sub-bass'],
    lead: ['bell', 'synth-lead', 'flute'],
    drums: 'hiphop',
    durationS: [150, 240],
    share: 0.17,
    countries: ['US', 'FR', 'GB', 'NG', 'DE'],
    words: ['flow', 'bars', 'verse', 'beat', 'sample', 'boom-bap', 'trap', 'mixtape', 'rhymes', 'street', 'producer', 'cypher', 'freestyle', 'hustle', '808', 'punchline', 'crew', 'block', 'lyricist', 'bounce'],
    nameWords: ['Lil', 'Young', 'MC', 'Kid', 'King', 'Money', 'Gold', 'Smoke', 'Ghost', 'Prince', 'Flow', 'Big'],
  },
  {
    name: 'electronic',
    tempo: [118, 132],
    meters: [['4/4', 1]],
    majorShare: 0.3,
    loudness: [-11, -8],
    chords: ['synth-pad', 'saw-synth'],
    bass: ['sub-bass', 'saw-synth'],
    lead: ['saw-synth', 'synth-lead', 'bell'],
    drums: 'electronic',
    durationS: [300, 420],
    share: 0.12,
    countries: ['DE', 'NL', 'GB', 'FR', 'BE'],
    words: ['techno', 'house', 'synthesizer', 'club', 'warehouse', 'four-on-the-floor', 'dancefloor', 'modular', 'hypnotic', 'arpeggio', 'rave', 'bpm', 'groove', 'minimal', 'acid', 'dj', 'remix', 'pulsing', 'euphoric', 'strobe'],
    nameWords: ['Pulse', 'Circuit', 'Vector', 'Echo', 'Signal', 'Binary', 'Flux', 'Orbit', 'Laser', 'Prism', 'Grid', 'Sync'],
  },
  {
    name: 'jazz',
    tempo: [88, 168],
    meters: [['4/4', 0.7], ['3/4', 0.3]],
    majorShare: 0.55,
    loudness: [-20, -15],
    chords: ['piano', 'rhodes'],
    bass: ['upright-bass'],
    lead: ['sax', 'brass', 'flute'],
    drums: 'brush',
    durationS: [240, 480],
    share: 0.07,
    countries: ['US', 'FR', 'JP', 'BR', 'GB'],
    words: ['improvisation', 'swing', 'bebop', 'quartet', 'saxophone', 'standards', 'solo', 'brushes', 'modal', 'trio', 'cool', 'hard-bop', 'syncopation', 'smoky', 'club', 'sideman', 'chords', 'fusion', 'soulful', 'blue-note'],
    nameWords: ['Blue', 'Quartet', 'Trio', 'Midnight', 'Smoke', 'Velvet', 'Mood', 'Swing', 'Monk', 'Ellington', 'Bird', 'Moon'],
  },
  {
    name: 'classical',
    tempo: [60, 108],
    meters: [['3/4', 0.45], ['4/4', 0.4], ['6/8', 0.15]],
    majorShare: 0.5,
    loudness: [-24, -18],
    chords: ['strings', 'piano'],
    bass: ['strings'],
    lead: ['flute', 'strings', 'piano'],
    drums: 'timpani',
    durationS: [300, 600],
    share: 0.06,
    countries: ['AT', 'DE', 'IT', 'RU', 'FR'],
    words: ['symphony', 'orchestra', 'sonata', 'concerto', 'movement', 'conductor', 'chamber', 'baroque', 'romantic', 'cello', 'violin', 'adagio', 'allegro', 'opus', 'philharmonic', 'score', 'recital', 'virtuoso', 'counterpoint', 'nocturne'],
    nameWords: ['Ensemble', 'Orchestra', 'Quartet', 'Philharmonic', 'Camerata', 'Sinfonia', 'Academy', 'Consort', 'Virtuosi', 'Chamber', 'Cantata', 'Aria'],
  },
  {
    name: 'folk',
    tempo: [84, 126],
    meters: [['6/8', 0.4], ['3/4', 0.3], ['4/4', 0.3]],
    majorShare: 0.65,
    loudness: [-18, -14],
    chords: ['acoustic-guitar'],
    bass: ['upright-bass', 'acoustic-guitar'],
    lead: ['fiddle', 'flute'],
    drums: 'folk',
    durationS: [160, 260],
    share: 0.07,
    countries: ['IE', 'GB', 'US', 'CA', 'NO'],
    words: ['acoustic', 'ballad', 'fiddle', 'banjo', 'storytelling', 'traditional', 'campfire', 'harmony', 'jig', 'waltz', 'rustic', 'pastoral', 'singer-songwriter', 'hymn', 'wooden', 'porch', 'homespun', 'heartfelt', 'reel', 'mountain'],
    nameWords: ['River', 'Willow', 'Hollow', 'Meadow', 'Pine', 'Harbor', 'Fox', 'Sparrow', 'Hearth', 'Valley', 'Moss', 'Lantern'],
  },
  {
    name: 'reggae',
    tempo: [68, 88],
    meters: [['4/4', 1]],
    majorShare: 0.6,
    loudness: [-14, -11],
    chords: ['organ', 'rhodes'],
    bass: ['electric-bass', 'sub-bass'],
    lead: ['brass', 'synth-lead'],
    drums: 'reggae',
    durationS: [200, 300],
    share: 0.05,
    countries: ['JM', 'GB', 'NG', 'US', 'FR'],
    words: ['riddim', 'dub', 'skank', 'one-drop', 'roots', 'dancehall', 'offbeat', 'bassline', 'sound-system', 'rasta', 'irie', 'echo', 'lovers-rock', 'toasting', 'island', 'sunshine', 'conscious', 'steppers', 'version', 'yard'],
    nameWords: ['Irie', 'Roots', 'Lion', 'Zion', 'Sound', 'Dread', 'Marley', 'Island', 'Jah', 'Sunshine', 'Rebel', 'Dub'],
  },
  {
    name: 'ambient',
    tempo: [60, 80],
    meters: [['4/4', 0.7], ['3/4', 0.3]],
    majorShare: 0.5,
    loudness: [-26, -20],
    chords: ['synth-pad', 'strings'],
    bass: ['sub-bass'],
    lead: ['bell', 'flute'],
    drums: 'soft',
    durationS: [240, 540],
    share: 0.05,
    countries: ['IS', 'JP', 'GB', 'DE', 'CA'],
    words: ['drone', 'texture', 'atmospheric', 'meditative', 'ethereal', 'soundscape', 'slow', 'reverb', 'tranquil', 'field-recording', 'spacious', 'hazy', 'calm', 'floating', 'minimalist', 'glacial', 'shimmering', 'sleep', 'immersive', 'tape-loop'],
    nameWords: ['Drift', 'Aurora', 'Mist', 'Glacier', 'Tide', 'Ether', 'Haze', 'Lumen', 'Still', 'Cloud', 'Halo', 'Silence'],
  },
];

/** Words any music text uses, whatever the genre (they carry no genre signal). */
export const SHARED_WORDS: readonly string[] = [
  'music', 'song', 'album', 'record', 'track', 'sound', 'band', 'artist', 'release', 'new', 'listen', 'tour', 'fans', 'production',
  'vocals', 'melody', 'rhythm', 'lyrics', 'studio', 'debut', 'career', 'single', 'stage', 'style', 'years', 'best', 'great', 'favourite',
];

/** Everyday English filler words (noise). */
export const NOISE_WORDS: readonly string[] = [
  'the', 'and', 'with', 'from', 'this', 'that', 'really', 'about', 'after', 'again', 'still', 'just', 'more', 'some', 'very', 'every',
  'weekend', 'coffee', 'city', 'friend', 'night', 'morning', 'train', 'rain', 'window', 'story', 'little', 'people', 'world', 'time',
];

/** A few non-English words that show up in real music writing. */
export const FOREIGN_WORDS: readonly string[] = [
  'canción', 'música', 'disco', 'Klang', 'Lied', 'Schallplatte', 'musique', 'chanson', 'concert', '音楽', 'アルバム', 'música-ao-vivo', 'låt', 'kappale', 'sångare', 'banda',
];

/** Syllables for made-up names and per-artist signature words. */
export const SYLLABLES: readonly string[] = [
  'ka', 'lo', 'mi', 'ra', 'ven', 'do', 'sa', 'ti', 'ne', 'ro', 'zu', 'ae', 'lin', 'mar', 'el', 'os', 'ki', 'ta', 'vi', 'nor', 'bel', 'an', 'ju', 'sol',
];

/** Time zones of listeners with their country and weight; several cross the date line. */
export const ZONES: readonly (readonly [zone: string, country: string, weight: number])[] = [
  ['America/New_York', 'US', 0.14],
  ['America/Los_Angeles', 'US', 0.1],
  ['America/Chicago', 'US', 0.06],
  ['Pacific/Honolulu', 'US', 0.02],
  ['America/Sao_Paulo', 'BR', 0.08],
  ['America/Mexico_City', 'MX', 0.05],
  ['Europe/London', 'GB', 0.09],
  ['Europe/Berlin', 'DE', 0.09],
  ['Europe/Paris', 'FR', 0.05],
  ['Europe/Stockholm', 'SE', 0.03],
  ['Africa/Lagos', 'NG', 0.03],
  ['Asia/Kolkata', 'IN', 0.06],
  ['Asia/Tokyo', 'JP', 0.06],
  ['Asia/Seoul', 'KR', 0.03],
  ['Australia/Sydney', 'AU', 0.05],
  ['Pacific/Auckland', 'NZ', 0.03],
  ['Pacific/Pago_Pago', 'AS', 0.005],
  ['Pacific/Kiritimati', 'KI', 0.005],
];

/** Listening platforms and their weights. */
export const PLATFORMS: readonly (readonly [string, number])[] = [
  ['android', 0.38],
  ['ios', 0.3],
  ['desktop', 0.17],
  ['web', 0.1],
  ['smart-speaker', 0.05],
];

/** Home page shelves and cards that listens can be started from (`home:<shelf>:<card>`). */
export const HOME_SHELVES: readonly string[] = ['made-for-you', 'jump-back-in', 'new-releases', 'recently-played', 'because-you-like'];
