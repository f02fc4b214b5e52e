/**
 * What playlist makers read: a catalog snapshot indexed by dense rows, each listener's history,
 * and candidate sources that propose tracks with a score and a reason. Built once per pipeline
 * run (see `snapshot.ts`); the rules (never heard, caps, windows) live in the makers.
 */
import type { ArtistId, TrackId, UserId, AlbumId } from '../domain/ids.ts';
import type { IdMap } from '../domain/ids.ts';

export interface TrackInfo {
  id: TrackId;
  title: string;
  /** Artist rows, main artist first. */
  artists: number[];
  /** Album row, -1 when the track has no album. */
  album: number;
  releaseDate: string;
  durationMs: number;
  audioPath?: string;
  /** Streams of 30 s or more across all listeners (popularity). */
  plays: number;
}

export interface ArtistInfo {
  id: ArtistId;
  name: string;
  genres: string[];
}

export interface CatalogView {
  tracks: TrackInfo[];
  artists: ArtistInfo[];
  albums: { id: AlbumId; title: string }[];
  trackRows: IdMap<TrackId>;
  artistRows: IdMap<ArtistId>;
  /** Track rows of each artist row. */
  tracksByArtist: number[][];
}

/** Audio features the sequencer uses for flow (tempo and key transitions). */
export interface FlowFeatures {
  tempo: number;
  /** Pitch class 0–11 (C = 0). */
  key: number;
  /** 1 major, 0 minor. */
  mode: number;
}

export interface UserHistory {
  id: UserId;
  timeZone: string;
  /** Track row → counts over the history window. */
  plays: Map<number, { streams: number; skips: number; lastAt: number }>;
  /** Artist rows the user follows. */
  follows: Set<number>;
  /** Tracks and artists the user marked as disliked. */
  dislikedTracks: Set<number>;
  dislikedArtists: Set<number>;
}

/** Why a track is recommended; rendered by {@link reasonText}. The explanation is part of the treatment. */
export type Reason =
  | { kind: 'because_you_listen'; artist: string; artistId?: string }
  | { kind: 'fans_also_like'; artist: string; artistId?: string }
  /** `trackId`: the listener's track it sounds like (never the recommended track itself). */
  | { kind: 'sounds_like'; track: string; artist: string; trackId?: string }
  /** Audio match to the listener's taste as a whole, when no favourite of theirs has audio. */
  | { kind: 'sound_fits_taste' }
  | { kind: 'described_as'; terms: string[] }
  | { kind: 'new_release'; artist: string; followed: boolean; artistId?: string }
  | { kind: 'favourite'; artist: string; artistId?: string }
  | { kind: 'similar_to_seed'; seed: string; by: 'cf' | 'audio' | 'text' }
  | { kind: 'popular' };

/** The track or artist a reason names, as ids a page can link to. */
export function reasonRef(r: Reason): { trackId?: string; artistId?: string } {
  if (r.kind === 'sounds_like') return r.trackId ? { trackId: r.trackId } : {};
  return 'artistId' in r && r.artistId ? { artistId: r.artistId } : {};
}

export function reasonText(r: Reason): string {
  switch (r.kind) {
    case 'because_you_listen':
      return `because you listen to ${r.artist}`;
    case 'fans_also_like':
      return `fans of ${r.artist} also like this`;
    case 'sounds_like':
      return `sounds like ${r.track} by ${r.artist}`;
    case 'sound_fits_taste':
      return 'its sound fits what you play';
    case 'described_as':
      return `described as: ${r.terms.join(', ')}`;
    case 'new_release':
      return r.followed ? `new from ${r.artist}, whom you follow` : `new from ${r.artist}`;
    case 'favourite':
      return `one of your favourites by ${r.artist}`;
    case 'similar_to_seed':
      return `${r.by === 'audio' ? 'sounds like' : r.by === 'text' ? 'described like' : 'listeners of'} ${r.seed}${r.by === 'cf' ? ' also play this' : ''}`;
    case 'popular':
      return 'popular right now';
  }
}

export interface Candidate {
  track: number;
  score: number;
  reason: Reason;
  /** Which source proposed it (`cf`, `text`, `audio`, `popularity`). */
  source: string;
}

/**
 * A source of candidate tracks for one user: every source has this signature, and makers blend
 * several (gorse's candidate sources). Scores are comparable within a source only.
 */
export interface CandidateSource {
  readonly name: string;
  candidates(user: UserHistory, k: number): Candidate[];
}

/** A finished playlist, as stored and exported. */
export interface Playlist {
  kind: 'discover-weekly' | 'release-radar' | 'daily-mix' | 'radio';
  /** Stable id: `discover-weekly:<user>:<week>`. */
  id: string;
  title: string;
  userId?: UserId;
  /** The week (Monday or Friday date in the user's zone) or the seed. */
  key: string;
  createdAt: string;
  runId: string;
  tracks: PlaylistTrack[];
}

export interface PlaylistTrack {
  trackId: TrackId;
  title: string;
  artists: string[];
  durationMs: number;
  reason: string;
  /** The reason's kind and the track or artist it names (lists made before these were kept have none). */
  reasonKind?: Reason['kind'];
  reasonTrackId?: string;
  reasonArtistId?: string;
  source: string;
  audioPath?: string;
}
