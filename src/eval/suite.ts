/**
 * Real-data evaluations run by `deepcut eval` / `npm run eval`. Each suite reads data from the
 * data folder (default `../shared/data`, flag `--data`, env DEEPCUT_DATA), computes figures, and
 * returns them as tables for people and flat metrics for machines. Suites register in
 * `suites/index.ts`; a suite whose data is missing is skipped with its reason.
 */
export interface EvalContext {
  /** Folder holding the data sets (each in its own sub-folder, as in ../shared/data). */
  dataDir: string;
  /** Seed for every random split. */
  seed: number;
  threads: number;
  /** Run a smaller, faster version (for tests). */
  quick: boolean;
}

export interface EvalTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface EvalReport {
  /** Flat figures with units in the keys (`_s`, `_ms`) and plain rates (`ndcg_at_10`). */
  metrics: Record<string, number | string>;
  tables: EvalTable[];
  notes?: string[];
}

export interface EvalSuite {
  name: string;
  description: string;
  /** Data sub-folders (under dataDir) the suite needs; missing ones skip it with a reason. */
  needs: string[];
  run(ctx: EvalContext): Promise<EvalReport>;
}
