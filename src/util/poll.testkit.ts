/**
 * Wait for a condition instead of a fixed time: `await eventually(() => files().length === 1)`.
 * Tests on a busy machine cannot count on a timer having fired within N ms; they poll for the
 * behaviour with a generous bound (default 10 s) and fail naming what never happened.
 */
export async function eventually(cond: () => boolean | Promise<boolean>, what = 'the condition', timeoutMs = 10_000, everyMs = 5): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (performance.now() > end) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
