// npm run bench [-- --hosts N] [--forks N] [--lab NAME] [--host-weight W] [--alone N] [--scale N]: brings up a lab (default name 'bench'), measures in one run the
// floor (plain parallel ssh), the reference (the GB guide's ufw commands by hand) and casfleet's
// Scenario A/B applies and no-op re-runs, then the same on N hosts one at a time (default 5; what
// a server alone on its CPU pays), prints wall time, host CPU, controller CPU, casfleet's longest
// event-loop stall and ratios, and tears the lab down. The performance targets live here,
// never in a timed test. --scale N runs only the controller's scale phase, against a fake fleet of
// N hosts (bench/scale-phase.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labDown } from '../src/lab/lab-down.ts';
import { labUp } from '../src/lab/lab-up.ts';
import type { Phase } from './bench-phases.ts';
import { removeHostWeight, weighLabHosts } from './host-weight.ts';
import { runScale } from './scale-phase.ts';
import { formatScale } from './scale-report.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '50' },
    forks: { type: 'string', default: '50' },
    lab: { type: 'string', default: 'bench' },
    // cpu.shares of the lab's hosts (bench/host-weight.ts); 1024 puts them on a par with the controller.
    'host-weight': { type: 'string', default: '128' },
    alone: { type: 'string', default: '5' },
    scale: { type: 'string' },
  },
});
const hosts = Number(values.hosts);
if (process.getuid?.() !== 0) {
  process.stderr.write('bench: the lab needs root\n');
  process.exit(1);
}

// nsenter, not `ip netns exec`: the latter remounts /sys, which would hide the hosts' CPU cgroups.
const runPhases = (args: string[], netns: string): Promise<Phase[]> =>
  new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./bench-phases.ts', import.meta.url));
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${netns}`, process.execPath, `--import=${import.meta.resolve('tsx')}`, script, ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CASFLEET_INSIDE_NETNS: netns },
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Phase[]) : reject(new Error(`bench phases exited ${code}`)),
    );
  });

const perHostMs = (seconds: number, phase: Phase): number => (seconds / phase.hosts) * 1000;
const ratio = (value: number | null, base: number | null): string =>
  value === null || base === null ? '-' : `${(value / base).toFixed(2)}x`;
const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)}`);

const hostMs = (phase: Phase): number | null => (phase.hostCpuSeconds === null ? null : perHostMs(phase.hostCpuSeconds, phase));
const controllerMs = (phase: Phase): number => perHostMs(phase.cpuSeconds, phase);

const format = (all: Phase[]): string[] => {
  const phases = all.filter((phase) => !phase.alone);
  const [floor, reference] = phases as [Phase, Phase];
  const lines = [
    `casfleet bench: ${hosts} lab hosts, forks ${values.forks}, hosts' cpu.shares ${weighted ? values['host-weight'] : 'unchanged (no cgroup v1 cpu hierarchy)'}; one run, ratios within it`,
    'wall: what a user waits (noisy on a shared machine); CPU: what the hosts and the controller spend (stable)',
    'the floor and the no-op re-runs: three runs in a row, the median of each figure (stall: the longest)',
    '',
    `${''.padEnd(40)} ${'---------- wall ----------'.padStart(28)} ${'------ host CPU per host ------'.padStart(33)} ${'controller'.padStart(11)} ${'stall'.padStart(7)}`,
    `${'phase'.padEnd(40)} ${'s'.padStart(8)} ${'÷ floor'.padStart(8)} ${'÷ ref'.padStart(8)} ${'ms'.padStart(9)} ${'÷ floor'.padStart(8)} ${'÷ ref'.padStart(8)} ${'ms/host'.padStart(11)} ${'ms'.padStart(7)}`,
  ];
  for (const phase of phases) {
    lines.push(
      [
        phase.name.padEnd(40),
        phase.wallSeconds.toFixed(2).padStart(8),
        ratio(phase.wallSeconds, floor.wallSeconds).padStart(8),
        ratio(phase.wallSeconds, reference.wallSeconds).padStart(8),
        ms(hostMs(phase)).padStart(9),
        ratio(hostMs(phase), hostMs(floor)).padStart(8),
        ratio(hostMs(phase), hostMs(reference)).padStart(8),
        ms(controllerMs(phase)).padStart(11),
        ms(phase.stallMs).padStart(7),
      ].join(' '),
    );
  }
  const byName = (name: string) => phases.find((phase) => phase.name === name)!;
  const firstApplies = [byName('scenario-a first apply'), byName('scenario-b apply')];
  const noops = [byName('scenario-a no-op re-run'), byName('scenario-b no-op re-run')];
  const casfleetPhases = phases.filter((phase) => phase.stallMs !== null);
  const worst = (values: readonly (number | null)[]): number | null =>
    values.some((value) => value === null) ? null : Math.max(...(values as number[]));
  const check = (label: string, value: number | null, limit: number, unit: string): string =>
    `target: ${label.padEnd(44)} ${value === null ? 'unmeasured' : `${value.toFixed(2)}${unit}`.padStart(10)}  ${value === null ? 'UNMEASURED' : value <= limit ? 'met' : 'MISSED'}`;
  const hostRatio = (phase: Phase, base: Phase): number | null => {
    const [value, of] = [hostMs(phase), hostMs(base)];
    return value === null || of === null ? null : value / of;
  };
  lines.push(
    '',
    check('host CPU, first apply <= 600 ms/host', worst(firstApplies.map(hostMs)), 600, ' ms'),
    check('host CPU, first apply <= 0.125x reference', worst(firstApplies.map((phase) => hostRatio(phase, reference))), 0.125, 'x'),
    check('host CPU, no-op re-run <= 1.5x floor', worst(noops.map((phase) => hostRatio(phase, floor))), 1.5, 'x'),
    check('wall, no-op re-run <= 1.3x floor', worst(noops.map((phase) => phase.wallSeconds / floor.wallSeconds)), 1.3, 'x'),
    check('wall, first apply <= 0.3x reference', worst(firstApplies.map((phase) => phase.wallSeconds / reference.wallSeconds)), 0.3, 'x'),
    check(`controller CPU <= 20 ms/host (set for 200 hosts)`, worst(casfleetPhases.map(controllerMs)), 20, ' ms'),
    check('event-loop stall <= 100 ms', worst(casfleetPhases.map((phase) => phase.stallMs)), 100, ' ms'),
    `audit vs no-op re-run (same run, wall)              ${(byName('audit (read-only, probes included)').wallSeconds / noops[0]!.wallSeconds).toFixed(2)}x`,
  );
  return [...lines, ...formatAlone(all.filter((phase) => phase.alone))];
};

// The sample measured one host at a time: host CPU per host and its ratio to the same sample's
// login, the figure a real server (alone on its CPU) pays. Not a target: those are set on the fleet.
const formatAlone = (phases: Phase[]): string[] => {
  const [floor] = phases;
  if (!floor) return [];
  return [
    '',
    `one host at a time (${floor.hosts} hosts, forks 1; each alone on the lab's CPU, as a real server is on its own):`,
    `${'phase'.padEnd(40)} ${'wall s'.padStart(8)} ${'host ms'.padStart(9)} ${'÷ floor'.padStart(8)} ${'controller'.padStart(11)}`,
    ...phases.map((phase) =>
      [
        phase.name.padEnd(40),
        phase.wallSeconds.toFixed(2).padStart(8),
        ms(hostMs(phase)).padStart(9),
        ratio(hostMs(phase), hostMs(floor)).padStart(8),
        ms(controllerMs(phase)).padStart(11),
      ].join(' '),
    ),
  ];
};

if (values.scale !== undefined) {
  const result = await runScale({ hosts: Number(values.scale), forks: Number(values.forks) });
  process.stdout.write(`${formatScale(result).join('\n')}\n`);
  process.exit(result.exitCode === 0 ? 0 : 1);
}

// The bench's own run records stay out of the operator's run history.
process.env.CASFLEET_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'casfleet-bench-'));
const lab = await labUp({ name: values.lab, hosts });
const weighted = weighLabHosts(values.lab, Number(values['host-weight']));
const alone = lab.hosts.slice(0, Number(values.alone));
try {
  const phases = await runPhases(
    [
      '--inventory',
      lab.inventoryPath,
      '--known-hosts',
      lab.knownHostsPath,
      '--key',
      lab.privateKeyPath,
      '--addresses',
      lab.hosts.map((host) => host.address).join(','),
      '--forks',
      values.forks,
      '--lab',
      values.lab,
      '--alone-names',
      alone.map((host) => host.name).join(','),
      '--alone-addresses',
      alone.map((host) => host.address).join(','),
    ],
    lab.controllerNetns,
  );
  process.stdout.write(`${format(phases).join('\n')}\n`);
} finally {
  await labDown({ name: values.lab });
  removeHostWeight(values.lab);
}
