// Preloaded into a benchmarked casfleet run (node --import): records the longest event-loop stall
// of the whole run and appends it, in ms, to $CASFLEET_BENCH_STALL_FILE when the process exits.
// Plain JavaScript, so it adds no TypeScript loader to the CLI's start-up.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.CASFLEET_BENCH_STALL_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  process.on('exit', () => {
    histogram.disable();
    appendFileSync(file, `${histogram.max / 1e6}\n`);
  });
}
