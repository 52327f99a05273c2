// npm run bench [-- --hosts N] [--forks N] [--lab NAME]: brings up a lab (default name 'bench'), measures in one run the
// floor (plain parallel ssh), the reference (the GB guide's ufw commands by hand) and casfleet's
// Scenario A/B applies and no-op re-runs, prints wall time, controller CPU and ratios, and tears
// the lab down. The performance targets live here, never in a timed test.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labDown } from '../src/lab/lab-down.ts';
import { labUp } from '../src/lab/lab-up.ts';
import type { Phase } from './bench-phases.ts';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '50' }, forks: { type: 'string', default: '50' }, lab: { type: 'string', default: 'bench' } },
});
const hosts = Number(values.hosts);
if (process.getuid?.() !== 0) {
  process.stderr.write('bench: the lab needs root\n');
  process.exit(1);
}

const runPhases = (args: string[], netns: string): Promise<Phase[]> =>
  new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./bench-phases.ts', import.meta.url));
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, `--import=${import.meta.resolve('tsx')}`, script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CASFLEET_INSIDE_NETNS: netns },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Phase[]) : reject(new Error(`bench phases exited ${code}`))));
  });

const format = (phases: Phase[]): string[] => {
  const [floor, reference] = phases;
  const lines = [
    `casfleet bench: ${hosts} lab hosts, forks ${values.forks}; one run, ratios within it`,
    '',
    `${'phase'.padEnd(40)} ${'wall s'.padStart(8)} ${'CPU s'.padStart(8)} ${'CPU/host'.padStart(10)} ${'÷ floor'.padStart(8)} ${'÷ reference'.padStart(12)}`,
  ];
  for (const phase of phases) {
    lines.push(
      `${phase.name.padEnd(40)} ${phase.wallSeconds.toFixed(2).padStart(8)} ${phase.cpuSeconds.toFixed(2).padStart(8)} ${`${((phase.cpuSeconds / hosts) * 1000).toFixed(1)} ms`.padStart(10)} ${(phase.wallSeconds / floor!.wallSeconds).toFixed(2).padStart(7)}x ${(phase.wallSeconds / reference!.wallSeconds).toFixed(2).padStart(11)}x`,
    );
  }
  const byName = (name: string) => phases.find((phase) => phase.name === name)!;
  const casfleetPhases = phases.slice(2);
  const noop = byName('scenario-a no-op re-run');
  const first = byName('scenario-a first apply');
  const worstCpu = Math.max(...casfleetPhases.map((phase) => (phase.cpuSeconds / hosts) * 1000));
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  lines.push(
    '',
    `target: no-op re-run <= 1.5x floor        ${(noop.wallSeconds / floor!.wallSeconds).toFixed(2)}x  ${verdict(noop.wallSeconds <= 1.5 * floor!.wallSeconds)}`,
    `target: first apply <= 1.0x reference     ${(first.wallSeconds / reference!.wallSeconds).toFixed(2)}x  ${verdict(first.wallSeconds <= reference!.wallSeconds)}`,
    `target: controller CPU <= 30 ms/host/run   worst ${worstCpu.toFixed(1)} ms  ${verdict(worstCpu <= 30)}`,
  );
  return lines;
};

// The bench's own run records stay out of the operator's run history.
process.env.CASFLEET_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'casfleet-bench-'));
const lab = await labUp({ name: values.lab, hosts });
try {
  const phases = await runPhases(
    [
      '--inventory', lab.inventoryPath,
      '--known-hosts', lab.knownHostsPath,
      '--key', lab.privateKeyPath,
      '--addresses', lab.hosts.map((host) => host.address).join(','),
      '--forks', values.forks,
    ],
    lab.controllerNetns,
  );
  process.stdout.write(`${format(phases).join('\n')}\n`);
} finally {
  await labDown({ name: values.lab });
}
