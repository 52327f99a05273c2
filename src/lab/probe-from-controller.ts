// Probing lab hosts from a process in the root namespace (tests, the CLI): run probe-main.ts inside
// the lab's controller namespace — the only place the lab's addresses are reachable from, and a
// place with no route to any real network.

import { z } from 'zod';
import { LabError } from '../errors.ts';
import { siblingModule } from '../module-file.ts';
import { DEFAULT_LAB_NAME, assertLabName, controllerNetns } from './lab-layout.ts';
import { runInNetns } from './lab-exec.ts';
import type { PortProbeResult } from '../net/probe.ts';

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
  const argv = [
    ...tsNodeArgv(siblingModule(import.meta.url, 'probe-main')),
    '--address',
    addresses.join(','),
    '--ports',
    ports.join(','),
    '--timeout',
    String(timeoutMs),
    '--json',
    ...(sourceAddress ? ['--source', sourceAddress] : []),
  ];
  const result = await runInNetns(netns, argv, { timeoutMs: 30_000 + timeoutMs * 4 });
  if (result.code !== 0) {
    throw new LabError(`probe from ${netns} failed: ${(result.stderr || result.stdout).trim() || `exit ${result.code}`}`);
  }
  const parsed = ProbeOutputSchema.safeParse(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '[]'));
  if (!parsed.success) throw new LabError(`probe from ${netns} printed unexpected output: ${result.stdout.slice(0, 200)}`);
  return parsed.data.map(({ detail, ...rest }) => (detail === undefined ? rest : { ...rest, detail }));
};
