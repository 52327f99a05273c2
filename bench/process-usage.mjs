// Preloaded into a benchmarked casfleet run (node --import): writes the process's own resource usage
// (peak RSS in KiB, user + system CPU in ms) as JSON to $CASFLEET_BENCH_USAGE_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.CASFLEET_BENCH_USAGE_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKb: usage.maxRSS, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  });
}
