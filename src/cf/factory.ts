/**
 * One factory for every recommender: a model config (a union tagged by `kind`) → a fresh, unfitted
 * {@link Recommender}. Config files and CLI flags are validated into these types at the edge.
 */
import type { Recommender } from './recommender.ts';
import { PopularityRecommender } from './popularity.ts';
import { ItemKnnRecommender, type ItemKnnConfig } from './itemknn.ts';
import { DeepcutError } from '../errors.ts';
import type { AlsOptions } from './als.ts';
import { EaseRecommender, type EaseConfig } from './ease.ts';
import { BprRecommender, type BprConfig } from './bpr.ts';
import { BlendRecommender, type BlendView } from './blend.ts';

/** ALS hyper-parameters (src/cf/als.ts `AlsOptions`); unset ones take its defaults. Confidence (α) is built by the caller. */
export type AlsModelConfig = { kind: 'als' } & AlsOptions;

/** A single family's config (anything but a blend). */
export type FamilyConfig = { kind: 'popularity' } | ({ kind: 'itemknn' } & ItemKnnConfig) | ({ kind: 'ease' } & EaseConfig) | ({ kind: 'bpr' } & BprConfig) | AlsModelConfig;

/** A blend of families (src/cf/blend.ts): each part's config, weight and view of the input. */
export interface BlendModelConfig {
  kind: 'blend';
  parts: ({ config: FamilyConfig } & BlendView)[];
}

export type ModelConfig = FamilyConfig | BlendModelConfig;

/** A short label for tables: `popularity`, `itemknn-bm25`, `als`. */
export function modelLabel(c: ModelConfig): string {
  return c.kind === 'itemknn' ? `itemknn-${c.weighting}` : c.kind;
}

/** A config's hyper-parameters for tables: `factors=64 regularization=1`; a blend lists its parts and their views, then `on` (the input label follows). */
export function paramsOf(c: ModelConfig): string {
  if (c.kind === 'blend') return `(${c.parts.map((p) => `${p.weight}·[${modelLabel(p.config)} ${paramsOf(p.config)}${p.binary ? ', reads presence' : ''}${p.alpha !== undefined ? `, reads 1 + ${p.alpha}·x` : ''}]`).join(' + ')}) on`;
  const { kind: _k, threads: _t, seed: _s, computeLoss: _l, ...rest } = c as Record<string, unknown>;
  return Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * Build an unfitted model. ALS is imported lazily from `./als.ts`; when that module is missing
 * this throws `unavailable` with a message saying so.
 */
export async function makeRecommender(config: ModelConfig): Promise<Recommender> {
  switch (config.kind) {
    case 'popularity':
      return new PopularityRecommender();
    case 'itemknn': {
      const { kind: _kind, ...knn } = config;
      return new ItemKnnRecommender(knn);
    }
    case 'ease': {
      const { kind: _kind, ...ease } = config;
      return new EaseRecommender(ease);
    }
    case 'bpr': {
      const { kind: _kind, ...bpr } = config;
      return new BprRecommender(bpr);
    }
    case 'blend':
      return new BlendRecommender(await Promise.all(config.parts.map(async ({ config: c, ...view }) => ({ ...view, model: await makeRecommender(c) }))));
    case 'als': {
      const { kind: _kind, ...als } = config;
      const make = await loadAls();
      return make(als);
    }
  }
}

type AlsCtor = new (config: AlsOptions) => Recommender;

/** Whether src/cf/als.ts can be imported (it lands separately). */
export async function alsAvailable(): Promise<boolean> {
  try {
    await loadAls();
    return true;
  } catch {
    return false;
  }
}

async function loadAls(): Promise<(c: AlsOptions) => Recommender> {
  const spec = './als.ts';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(String(e)))
      throw new DeepcutError('unavailable', 'model kind "als" is not available: src/cf/als.ts is missing', {}, { cause: e });
    throw e;
  }
  const ctor = mod.AlternatingLeastSquares as AlsCtor | undefined;
  if (typeof ctor !== 'function') throw new DeepcutError('unavailable', `model kind "als": src/cf/als.ts exports no AlternatingLeastSquares class (exports: ${Object.keys(mod).join(', ')})`);
  return (c) => new ctor(c);
}
