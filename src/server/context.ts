/** What every route handler gets: the store, the serving state, the config and the metrics. */
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import type { ServingState } from '../serving/index.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../core/clock.ts';
import type { Metrics } from './metrics.ts';
import type { AuthFailures, KeyVerifier } from './auth.ts';
import type { ServingSlot } from './slot.ts';
import type { FleetNode } from './fleet.ts';

export interface ServerContext {
  store: Store;
  /** The serving state this request answers from (taken from `slot` when it arrived: one run per answer). */
  state: ServingState;
  /** The state new requests get, swapped when a run is published. */
  slot: ServingSlot;
  /** Set on an API node of a fleet: shares accepted listens and catalog rows, knows the publication row. */
  fleet?: Pick<FleetNode, 'announce' | 'announceCatalog' | 'published'>;
  config: Config;
  metrics: Metrics;
  verifier: KeyVerifier;
  /** Failed authentications per client address (rate limited in app.ts, counted by validate-token too). */
  authFailures: AuthFailures;
  /** false in the local demo mode (`--no-auth`): every request acts with every scope. */
  auth: boolean;
  log: Logger;
  /** "Now" for what the server stamps (reactions); the demo runs on its world's day. */
  clock: Clock;
}
