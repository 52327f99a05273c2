// The `--scale` phase's figures and targets, as printed by `npm run bench -- --scale N`.
import type { ScaleResult } from './scale-phase.ts';

/** A recap longer than this is not "one screen" any more. */
export const ONE_SCREEN_LINES = 40;

const check = (label: string, value: string, met: boolean): string =>
  `target: ${label.padEnd(44)} ${value.padStart(12)}  ${met ? 'met' : 'MISSED'}`;

export const formatScale = (result: ScaleResult): string[] => [
  `casfleet bench --scale: ${result.hosts} fake hosts (bench/fake-fleet, nice 19), apply scenario-a --no-probe, forks ${result.forks}`,
  `load average at the end: ${result.loadAverage.map((load) => load.toFixed(2)).join(' ')}`,
  '',
  `exit code                     ${result.exitCode}`,
  `wall                          ${result.wallSeconds.toFixed(1)} s`,
  `controller CPU                ${result.cpuMsPerHost.toFixed(2)} ms/host (start-up included)`,
  `controller peak RSS           ${result.maxRssMb.toFixed(0)} MB`,
  `longest event-loop stall      ${result.stallMs.toFixed(0)} ms`,
  `output lines / recap lines    ${result.outputLines} / ${result.recapLines}`,
  `run record                    ${result.recordedHosts} hosts, ${result.changedHosts} changed`,
  '',
  check('controller peak RSS <= 300 MB', `${result.maxRssMb.toFixed(0)} MB`, result.maxRssMb <= 300),
  check('event-loop stall <= 100 ms', `${result.stallMs.toFixed(0)} ms`, result.stallMs <= 100),
  check('controller CPU <= 15 ms/host', `${result.cpuMsPerHost.toFixed(2)} ms`, result.cpuMsPerHost <= 15),
  check(`recap fits one screen (<= ${ONE_SCREEN_LINES} lines)`, `${result.recapLines} lines`, result.recapLines <= ONE_SCREEN_LINES),
  check(
    'run record holds every host',
    `${result.recordedHosts}/${result.hosts}`,
    result.recordedHosts === result.hosts && result.changedHosts === result.hosts,
  ),
];
