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

// Hosts' commands end together (a fleet's gathers land in one poll phase), and each host then
// parses what its host printed and plans its steps, synchronously. Run back to back, those sections
// were one task for the whole burst: keepalives, handshakes and timeouts of every other host and
// the live view waited behind it. Each such section awaits its turn here instead; one is let go
// per turn of the event loop, in arrival order, with I/O and timers in between.
const waiting: (() => void)[] = [];
let releasing = false;

const releaseNext = (): void => {
  waiting.shift()?.();
  if (waiting.length > 0) setImmediate(releaseNext);
  else releasing = false;
};

/** Resolves when it is this caller's turn for a synchronous section of host work (see above). */
export const hostWorkTurn = (): Promise<void> =>
  new Promise((resolve) => {
    waiting.push(resolve);
    if (releasing) return;
    releasing = true;
    setImmediate(releaseNext);
  });
