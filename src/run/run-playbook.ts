// Runs a planned playbook over many hosts in parallel (one SSH connection per host for the whole
// run) and turns everything into events. Hosts are independent: a host that fails or cannot be
// reached never stops the others.

import pLimit from 'p-limit';
import type { Become } from '../command/shell.ts';
import type { PlaybookItem } from '../playbook/define-playbook.ts';
import { emptyCounts, type EmitEvent, type HostCounts } from '../report/events.ts';
import type { Connection, ConnectOptions } from '../ssh/connection.ts';
import type { Handler } from '../steps/step.ts';
import { runHost, type HostRunOptions } from './host-pipeline.ts';
import { HostSession } from './host-session.ts';

/** One host with everything needed to run the playbook on it. */
export interface HostTarget {
  readonly name: string;
  readonly connect: ConnectOptions;
  readonly become: Become;
  readonly items: readonly PlaybookItem[];
  readonly handlers: Readonly<Record<string, Handler>>;
}

export interface RunPlaybookInput {
  readonly playbook: string;
  readonly targets: readonly HostTarget[];
  readonly options: HostRunOptions & { readonly forks: number; readonly gatherTimeoutMs: number; readonly applyTimeoutMs: number };
  readonly connect: (options: ConnectOptions) => Promise<Connection>;
  readonly emit: EmitEvent;
}

/** Run on every target; resolves with the per-host counts (the recap), in target order. */
export const runPlaybook = async (input: RunPlaybookInput): Promise<Record<string, HostCounts>> => {
  const { targets, options, emit } = input;
  emit({ type: 'run-start', playbook: input.playbook, hosts: targets.map((t) => t.name), check: options.check });
  const limit = pLimit(Math.max(1, options.forks));
  const results = await Promise.all(targets.map((target) => limit(() => runTarget(target, input))));
  const recap: Record<string, HostCounts> = {};
  targets.forEach((target, index) => {
    recap[target.name] = results[index] ?? emptyCounts();
  });
  emit({ type: 'recap', hosts: recap });
  return recap;
};

const runTarget = async (target: HostTarget, input: RunPlaybookInput): Promise<HostCounts> => {
  const { emit, options } = input;
  const startedAt = Date.now();
  emit({ type: 'host-stage', host: target.name, stage: 'connecting' });
  let connection: Connection;
  try {
    connection = await input.connect(target.connect);
  } catch (error) {
    emit({ type: 'unreachable', host: target.name, error: error instanceof Error ? error.message : String(error) });
    const counts = { ...emptyCounts(), unreachable: 1 };
    emit({ type: 'host-end', host: target.name, counts, durationMs: Date.now() - startedAt });
    return counts;
  }
  try {
    const session = new HostSession(connection, {
      become: target.become,
      gatherTimeoutMs: options.gatherTimeoutMs,
      applyTimeoutMs: options.applyTimeoutMs,
    });
    const counts = await runHost({ host: target.name, items: target.items, handlers: target.handlers, session, options, emit });
    emit({ type: 'host-end', host: target.name, counts, durationMs: Date.now() - startedAt });
    return counts;
  } finally {
    await connection.close().catch(() => undefined);
  }
};
