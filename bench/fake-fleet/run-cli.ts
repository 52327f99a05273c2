// Runs the built CLI inside a network namespace (nsenter, so /sys stays visible), capturing output.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const CLI_PATH = fileURLToPath(new URL('../../bin/casfleet.js', import.meta.url));

export const runCli = (
  netns: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, ...nodeArgs, CLI_PATH, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
