// Runs the built CLI inside a network namespace (nsenter, so /sys stays visible), capturing output.
import { fileURLToPath } from 'node:url';
import { type RunResult, run } from '../../src/lab/lab-exec.ts';

export const CLI_PATH = fileURLToPath(new URL('../../bin/casfleet.js', import.meta.url));

/** A fleet-wide run is measured, never cut short: the timeout only guards against a hung bench. */
export const runCli = (
  netns: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> =>
  run(['nsenter', `--net=/run/netns/${netns}`, process.execPath, ...nodeArgs, CLI_PATH, ...args], {
    env: { ...process.env, ...env },
    timeoutMs: 30 * 60_000,
  });
