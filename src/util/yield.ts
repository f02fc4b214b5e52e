/**
 * Cooperative yielding for long loops on the main thread, so that a server in the same process
 * keeps answering while a pipeline step runs (the in-process retrain, src/server/retrain.ts):
 *
 *   const tick = yielder();
 *   for (const user of users) { await tick(); … }
 *
 * `tick()` gives the event loop a turn (timers, sockets) once `budgetMs` of work has passed since
 * the last turn; otherwise it returns at once. `clock` (ms) is injectable for tests.
 */
export function yielder(budgetMs = 20, clock: () => number = () => performance.now()): () => Promise<void> | undefined {
  let last = clock();
  return () => {
    if (clock() - last < budgetMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        last = clock();
        resolve();
      }),
    );
  };
}
