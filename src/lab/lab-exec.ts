// Spawning local commands for the lab: capture output, fail with a LabError that carries stderr,
// run inside the controller namespace, and bound parallelism (2 cores: a few at a time is fastest).

import { spawn } from 'node:child_process';
import { LabError } from '../errors.ts';

export interface RunOptions {
  /** Written to stdin, then EOF. */
  readonly input?: string;
  /** SIGKILL after this long (default 60 s). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export const run = (argv: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
  new Promise((resolvePromise, reject) => {
    const [command, ...args] = argv;
    if (command === undefined) {
      reject(new LabError('run: empty command'));
      return;
    }
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LabError(`cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // EPIPE when the command exits without reading stdin is not our error; 'close' reports the outcome.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });

/** Like run(), but a non-zero exit becomes a LabError saying what was being done. */
export const runChecked = async (what: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> => {
  const result = await run(argv, options);
  if (result.code !== 0) {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    const status = result.code === null ? `signal ${result.signal}` : `exit ${result.code}`;
    throw new LabError(`${what} failed (${status}): ${argv.join(' ')}${detail ? `\n${detail}` : ''}`);
  }
  return result;
};

/** Run argv inside a network namespace (e.g. the lab controller, whose only network is the lab). */
export const runInNetns = (netns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
  run(['ip', 'netns', 'exec', netns, ...argv], options);

/** map() with at most `limit` calls in flight; results keep input order; the first failure rejects. */
export const mapLimit = async <T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
};

export const sleep = (ms: number): Promise<void> => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
