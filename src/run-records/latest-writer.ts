// Serializes writes of a value that keeps changing (a run record, rewritten after every host result)
// so that, per key: one write is in flight at a time; while it runs, only the newest waiting value is
// kept (intermediate states are skipped, never written late); a value older than one already
// accepted is never written after it; and writes start at most every `minIntervalMs`. The cost
// stays bounded however often the state changes: a fleet of 1000 hosts finishing in a burst costs a
// few writes per second, not 1000.

export interface LatestWriter<T> {
  /** Resolves once this value, or a newer one for the key, is persisted; rejects if that write failed. */
  write(key: string, value: T): Promise<void>;
  /** Resolves when no write is in flight or waiting, for any key; a write waiting out its interval starts at once. */
  idle(): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Slot<T> {
  /** The newest value accepted for the key (in flight, waiting or written). */
  newest?: T;
  pending?: { value: T; waiters: Waiter[] };
  drain?: Promise<void>;
  /** When the last write of the key started (ms since the epoch). */
  lastStart?: number;
  /** Ends the wait for the interval now (idle() does: nothing is left waiting at exit). */
  wake?: () => void;
}

export interface LatestWriterOptions<T> {
  /** Whether `candidate` predates `newest` (by default nothing does: call order alone decides). */
  readonly isOlder?: (candidate: T, newest: T) => boolean;
  /**
   * Least time between the starts of two writes of one key (default 0), or that time for the value
   * about to be written (a large value may be written less often). The first write is immediate.
   */
  readonly minIntervalMs?: number | ((value: T) => number);
}

/** `persist` does the actual write. */
export const createLatestWriter = <T>(
  persist: (key: string, value: T) => Promise<void>,
  options: LatestWriterOptions<T> = {},
): LatestWriter<T> => {
  const { isOlder = () => false, minIntervalMs = 0 } = options;
  // Slots are kept after their writes finish: `newest` must outlive them to keep refusing stale
  // values. One per record a process writes, so a handful.
  const slots = new Map<string, Slot<T>>();

  const drain = async (key: string, slot: Slot<T>): Promise<void> => {
    while (slot.pending) {
      const interval = typeof minIntervalMs === 'function' ? minIntervalMs(slot.pending.value) : minIntervalMs;
      const wait = (slot.lastStart ?? Number.NEGATIVE_INFINITY) + interval - Date.now();
      // The timer keeps the process alive, so a waiting state is written before a normal exit.
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          slot.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        slot.wake = undefined;
      }
      const { value, waiters } = slot.pending;
      slot.pending = undefined;
      slot.lastStart = Date.now();
      try {
        await persist(key, value);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      }
    }
    slot.drain = undefined;
  };

  return {
    write(key, value) {
      const slot = slots.get(key) ?? {};
      slots.set(key, slot);
      return new Promise<void>((resolve, reject) => {
        const waiter = { resolve, reject };
        if (slot.newest !== undefined && slot.newest !== value && isOlder(value, slot.newest)) {
          // Stale: never written. The caller waits for the newer state instead (and learns how its
          // write went when that one is still waiting).
          if (slot.pending) slot.pending.waiters.push(waiter);
          else void (slot.drain ?? Promise.resolve()).then(resolve);
          return;
        }
        slot.newest = value;
        slot.pending = { value, waiters: [...(slot.pending?.waiters ?? []), waiter] };
        slot.drain ??= drain(key, slot);
      });
    },
    async idle() {
      while (true) {
        for (const slot of slots.values()) slot.wake?.();
        const running = [...slots.values()].flatMap((slot) => (slot.drain ? [slot.drain] : []));
        if (running.length === 0) return;
        await Promise.all(running);
      }
    },
  };
};
