// Runs the casfleet CLI as a user would (a child process), collecting output and the exit code.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorInfo } from '../../src/report/error-info.ts';
import type { HostCounts } from '../../src/report/events.ts';

export const CLI = fileURLToPath(new URL('../../bin/casfleet.js', import.meta.url));

// Run records of test runs go to a private directory, never the user's own state.
const STATE_DIR = mkdtempSync(join(tmpdir(), 'casfleet-test-state-'));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const runCli = (
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', CASFLEET_STATE_DIR: STATE_DIR, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** The JSON Lines of a --json run. */
export const jsonEvents = (stdout: string): Array<Record<string, unknown> & { type: string }> =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { type: string });

/** The `error: { kind, message }` of a --json failure event (undefined when it has none). */
export const errorOf = (event: Record<string, unknown> | undefined): ErrorInfo | undefined => event?.error as ErrorInfo | undefined;

export type RecapCounts = HostCounts;

export const recapOf = (stdout: string): Record<string, RecapCounts> => {
  const recap = jsonEvents(stdout).find((event) => event.type === 'recap');
  if (!recap) throw new Error(`no recap line in output:\n${stdout}`);
  return recap.hosts as Record<string, RecapCounts>;
};
