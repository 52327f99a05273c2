// The CLI as a child process that pauses at an exact point of a run (CASFLEET_TEST_PAUSE, see
// src/run/test-pause.ts), for a lab test to act on the host there, and the host's dead-man timers.
//
//   const run = startPaused('before-confirm', ['apply', 'scenario-a', '-i', inv, '--json'], env);
//   const pid = await pausedPid(run, 'cas-001');   // casfleet waits here
//   rmSync(run.marker);                            // let it go on (or kill pid)
//   const { code, stdout } = await run.done;
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HostTimer, hostTimers } from '../../src/host-timer/host-timers.ts';
import type { PausePhase } from '../../src/run/test-pause.ts';
import { CLI } from './cli.ts';

export interface PausedRun {
  readonly child: ChildProcess;
  readonly marker: string;
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `casfleet <args>` set to pause at `phase` (or at each of several, in the run's order); the
 * marker file lives in `stateDir`.
 */
export const startPaused = (
  phase: PausePhase | readonly PausePhase[],
  args: readonly string[],
  stateDir: string,
  env: NodeJS.ProcessEnv = {},
): PausedRun => {
  const phases = [phase].flat().join(',');
  const marker = join(stateDir, `pause-${phases.replaceAll(',', '+')}-${Date.now()}`);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', CASFLEET_STATE_DIR: stateDir, ...env, CASFLEET_TEST_PAUSE: `${phases}:${marker}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, marker, done };
};

/**
 * Waits until casfleet paused for `host` (at its next phase, once the marker was removed); resolves
 * with the pid of the process that paused.
 */
export const pausedPid = async (run: PausedRun, host: string): Promise<number> => {
  for (let tries = 0; tries < 1200; tries++) {
    if (existsSync(run.marker)) {
      const line = readFileSync(run.marker, 'utf8')
        .split('\n')
        .find((entry) => entry.startsWith(`${host} `));
      if (line) return Number(line.split(' ')[1]);
    }
    if (run.child.exitCode !== null) throw new Error('casfleet ended before it paused');
    await sleep(50);
  }
  throw new Error('casfleet never paused');
};

/** The host's casfleet timers, read with `exec` (a command run on the host, e.g. TestLab.exec). */
export const timersOn = async (
  exec: (argv: readonly string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
): Promise<readonly HostTimer[]> => {
  const result = await exec(['sh', '-c', hostTimers.script]);
  if (result.code !== 0) throw new Error(`reading the timers: exit ${result.code}: ${result.stderr}`);
  return hostTimers.parse(result.stdout);
};

/** Until the newest dead-man on the host has fired and its restore ended. */
export const untilFired = async (exec: Parameters<typeof timersOn>[0]): Promise<HostTimer> => {
  for (let tries = 0; tries < 120; tries++) {
    const fired = (await timersOn(exec)).find((timer) => timer.state === 'fired');
    if (fired) return fired;
    await sleep(250);
  }
  throw new Error('the dead-man never fired');
};
