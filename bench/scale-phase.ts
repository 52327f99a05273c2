// `npm run bench -- --scale N`: casfleet's controller against a fake fleet of N hosts (bench/fake-fleet),
// one `apply scenario-a` from a fresh fleet. The hosts' cost is not what is measured here (they replay
// a recording); the controller's is: wall, CPU per host, peak RSS, longest event-loop stall, how long
// the recap gets, and whether the run record holds every host.
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRunRecord, runsDir } from '../src/run-records/run-store.ts';
import { childrenCpuSeconds } from './children-cpu.ts';
import { startFakeFleet } from './fake-fleet/fake-fleet.ts';
import { runCli } from './fake-fleet/run-cli.ts';

export const SCALE_NETNS_PREFIX = 'hz';

export interface ScaleOptions {
  readonly hosts: number;
  readonly forks: number;
  /** Extra node flags for the CLI child, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

export interface ScaleResult {
  readonly hosts: number;
  readonly forks: number;
  readonly exitCode: number | null;
  readonly wallSeconds: number;
  readonly cpuMsPerHost: number;
  readonly maxRssMb: number;
  readonly stallMs: number;
  readonly outputLines: number;
  readonly recapLines: number;
  readonly recordedHosts: number;
  readonly changedHosts: number;
  readonly loadAverage: readonly number[];
}

const preload = (name: string): string => `--import=${fileURLToPath(new URL(name, import.meta.url))}`;

export const runScale = async ({ hosts, forks, nodeArgs = [] }: ScaleOptions): Promise<ScaleResult> => {
  const work = mkdtempSync(join(tmpdir(), 'casfleet-bench-scale-'));
  const env = {
    CASFLEET_STATE_DIR: join(work, 'state'),
    CASFLEET_BENCH_STALL_FILE: join(work, 'stalls'),
    CASFLEET_BENCH_USAGE_FILE: join(work, 'usage.json'),
  };
  const fleet = await startFakeFleet({ prefix: SCALE_NETNS_PREFIX, hosts });
  try {
    const cpuBefore = childrenCpuSeconds();
    const started = process.hrtime.bigint();
    const run = await runCli(
      fleet.controller,
      ['apply', 'scenario-a', '-i', fleet.inventoryPath, '-f', String(forks), '--no-probe'],
      [preload('./event-loop-stall.mjs'), preload('./process-usage.mjs'), ...nodeArgs],
      env,
    );
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuSeconds = childrenCpuSeconds() - cpuBefore;
    const lines = run.stdout.trimEnd().split('\n');
    const recapAt = lines.findIndex((line) => line.startsWith('PLAY RECAP'));
    const record = await readRunRecord('last', runsDir(env)).catch(() => undefined);
    const states = Object.values(record?.hosts ?? {}).map((host) => host.state);
    const usage = JSON.parse(readFileSync(env.CASFLEET_BENCH_USAGE_FILE, 'utf8')) as { maxRssKb: number };
    if (run.code !== 0) process.stderr.write(`casfleet exited ${run.code}:\n${lines.slice(-20).join('\n')}\n${run.stderr.slice(-2000)}\n`);
    return {
      hosts,
      forks,
      exitCode: run.code,
      wallSeconds,
      cpuMsPerHost: (cpuSeconds / hosts) * 1000,
      maxRssMb: usage.maxRssKb / 1024,
      stallMs: Math.max(...readFileSync(env.CASFLEET_BENCH_STALL_FILE, 'utf8').trim().split('\n').map(Number)),
      outputLines: lines.length,
      recapLines: recapAt < 0 ? 0 : lines.length - recapAt,
      recordedHosts: states.length,
      changedHosts: states.filter((state) => state === 'changed').length,
      loadAverage: loadavg(),
    };
  } finally {
    await fleet.stop();
  }
};
