// --json: JSON Lines on stdout, one event per step result (plus unreachable hosts, each host's end
// with its duration, rollout stages and halts), and last the
// recap line `{"type":"recap","hosts":{...}}`. Progress events stay out of the stream.

import type { RunEvent } from './events.ts';
import type { Reporter, Write } from './reporter.ts';

const PUBLISHED = new Set<RunEvent['type']>(['step', 'unreachable', 'host-end', 'stage', 'halt', 'recap']);

export const createJsonReporter = (write: Write): Reporter => ({
  emit(event) {
    if (PUBLISHED.has(event.type)) write(`${JSON.stringify(event)}\n`);
  },
  async suspend() {},
  resume() {},
  async finish() {},
});
