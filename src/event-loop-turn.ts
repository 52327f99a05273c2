// Start-up walks the whole fleet in plain loops (each host's vars checked, its steps built): on a
// 1000-host inventory that is hundreds of ms the event loop would otherwise spend in one task, with
// timers, signals and the live view waiting. A loop gives the event loop a turn whenever it has run
// for a few ms, which costs nothing measurable per host.

/** One turn of the event loop: I/O and timers that are due run before the caller resumes. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * For a loop that may run long: call the result once per item and await it; it takes a turn of the
 * event loop once `budgetMs` have passed since the last one, and is a no-op otherwise.
 */
export const turnTaker = (budgetMs = 10): (() => Promise<void> | undefined) => {
  let since = performance.now();
  return () => {
    if (performance.now() - since < budgetMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
};
