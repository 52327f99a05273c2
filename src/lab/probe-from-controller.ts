// Probing lab hosts from a process in the root namespace (tests, the CLI): run probe-main.ts inside
// the lab's controller namespace — the only place the lab's addresses are reachable from, and a
// place with no route to any real network.

import { spawn } from 'node:child_process';
import { z } from 'zod';
import { LabError } from '../errors.ts';
import { siblingModule } from '../module-file.ts';
import type { PortProbeResult } from '../net/probe.ts';
import { runInNetns } from './lab-exec.ts';
import { assertLabName, controllerNetns, DEFAULT_LAB_NAME } from './lab-layout.ts';

const ProbeOutputSchema = z.array(
  z.object({
    address: z.string(),
    port: z.number().int(),
    state: z.enum(['open', 'closed', 'filtered']),
    detail: z.string().optional(),
  }),
);

export interface ProbeFromControllerOptions {
  readonly name?: string;
  /** One address, or several probed in parallel by one process. */
  readonly address: string | readonly string[];
  readonly ports: readonly number[];
  readonly sourceAddress?: string;
  readonly timeoutMs?: number;
}

/** argv for `node` with the same TypeScript loader this process uses, resolved from this file (cwd-independent). */
export const tsNodeArgv = (script: string): string[] => [process.execPath, `--import=${import.meta.resolve('tsx')}`, script];

/** argv of probe-main.ts for these targets; `mode` is `--json` (one pass) or `--watch <ms>`. */
const probeMainArgv = (
  addresses: readonly string[],
  ports: readonly number[],
  timeoutMs: number,
  sourceAddress: string | undefined,
  mode: readonly string[],
): string[] => [
  ...tsNodeArgv(siblingModule(import.meta.url, 'probe-main')),
  '--address',
  addresses.join(','),
  '--ports',
  ports.join(','),
  '--timeout',
  String(timeoutMs),
  ...mode,
  ...(sourceAddress ? ['--source', sourceAddress] : []),
];

export const probeFromController = async ({
  name = DEFAULT_LAB_NAME,
  address,
  ports,
  sourceAddress,
  timeoutMs = 1000,
}: ProbeFromControllerOptions): Promise<PortProbeResult[]> => {
  const addresses = typeof address === 'string' ? [address] : [...address];
  if (addresses.length === 0 || ports.length === 0) return [];
  const netns = controllerNetns(assertLabName(name));
  const argv = probeMainArgv(addresses, ports, timeoutMs, sourceAddress, ['--json']);
  const result = await runInNetns(netns, argv, { timeoutMs: 30_000 + timeoutMs * 4 });
  if (result.code !== 0) {
    throw new LabError(`probe from ${netns} failed: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  }
  const parsed = ProbeOutputSchema.safeParse(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '[]'));
  if (!parsed.success) throw new LabError(`probe from ${netns} printed unexpected output: ${result.stdout.slice(0, 200)}`);
  return parsed.data.map(({ detail, ...rest }) => (detail === undefined ? rest : { ...rest, detail }));
};

const WatchedSchema = z.object({
  address: z.string(),
  port: z.number().int(),
  state: z.enum(['open', 'closed', 'filtered']),
  detail: z.string().optional(),
  /** When the probe started, in ms since the watch began. */
  startedMs: z.number(),
  /** How long it took to get its answer (or to give up). */
  ms: z.number(),
});

export type WatchedProbe = z.infer<typeof WatchedSchema>;

export interface PortWatch {
  /** Stops starting probes, waits for those in flight, and returns every result in start order. */
  stop(): Promise<WatchedProbe[]>;
}

/**
 * Probes the ports again and again (every `intervalMs`, each probe on its own) from the lab's
 * controller until stop(): what the ports did *during* a change, e.g. a switch of firewall backends.
 */
export const watchFromController = ({
  name = DEFAULT_LAB_NAME,
  address,
  ports,
  sourceAddress,
  timeoutMs = 3000,
  intervalMs = 50,
}: ProbeFromControllerOptions & { readonly intervalMs?: number }): PortWatch => {
  const addresses = typeof address === 'string' ? [address] : [...address];
  const argv = [
    'ip',
    'netns',
    'exec',
    controllerNetns(assertLabName(name)),
    ...probeMainArgv(addresses, ports, timeoutMs, sourceAddress, ['--watch', String(intervalMs)]),
  ];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  return {
    stop: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new LabError(`port watch from ${name} failed (exit ${code}): ${stderr.trim()}`);
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => WatchedSchema.parse(JSON.parse(line)))
        .sort((a, b) => a.startedMs - b.startedMs);
    },
  };
};
