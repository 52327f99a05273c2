// The fleet-grouped plan: hosts that would get exactly the same changes are shown once, with their
// names compacted (`46 hosts (cas-001…cas-046):`), so a plan over hundreds of hosts reads in a screen.
// Groups come in the order an operator reads them: what will change (biggest group first), what is
// already compliant, what failed (by identical error), what could not be reached (by identical error).

import type { Style } from './format-event.ts';
import type { HostPlan } from './host-plans.ts';
import { compactHostNames, DEFAULT_HOST_LIST_LIMIT } from './host-ranges.ts';
import { printable } from './terminal-text.ts';

export type PlanGroupKind = 'changes' | 'compliant' | 'failed' | 'unreachable';

export type PlannedChanges = HostPlan['changes'];

export interface PlanGroup {
  readonly kind: PlanGroupKind;
  /** In the order the plans came (inventory order). */
  readonly hosts: string[];
  /** With `changes`: what every host of the group would get, per step. */
  readonly changes?: PlannedChanges;
  /** With `failed` and `unreachable`: the error every host of the group had. */
  readonly error?: string;
  /** With `changes` and `compliant`: warnings every host of the group had. */
  readonly warnings?: NonNullable<HostPlan['warnings']>;
}

const KIND_ORDER: readonly PlanGroupKind[] = ['changes', 'compliant', 'failed', 'unreachable'];

/** Hosts with identical plans (or identical errors) together; see the file comment for the order. */
export const groupPlans = (plans: readonly HostPlan[]): PlanGroup[] => {
  const groups = new Map<string, PlanGroup>();
  for (const plan of plans) {
    // A step that would change nothing must not split otherwise identical hosts.
    const changes = plan.changes.filter((change) => change.summaries.length > 0);
    const kind: PlanGroupKind = plan.outcome !== 'planned' ? plan.outcome : changes.length > 0 ? 'changes' : 'compliant';
    const warnings = kind === 'changes' || kind === 'compliant' ? (plan.warnings ?? []) : [];
    const detail = {
      ...(kind === 'changes' ? { changes } : kind === 'compliant' ? {} : { error: plan.error ?? kind }),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
    const key = `${kind}\u0000${JSON.stringify(detail)}`;
    const group = groups.get(key);
    if (group) group.hosts.push(plan.host);
    else groups.set(key, { kind, hosts: [plan.host], ...detail });
  }
  // Array.prototype.sort is stable: equal-sized groups keep the order their first host came in.
  return [...groups.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || b.hosts.length - a.hosts.length);
};

export interface FormatPlanGroupsOptions {
  /** Names or ranges listed per group before `… +N more`. */
  readonly hostLimit?: number;
}

const hostCount = (hosts: readonly string[]) => `${hosts.length} host${hosts.length === 1 ? '' : 's'}`;

const paintSummary = (text: string, style: Style): string => {
  const summary = printable(text);
  return summary.startsWith('+') ? style.green(summary) : summary.startsWith('-') || summary.startsWith('−') ? style.red(summary) : summary;
};

// `failed (cas-003, cas-007: <error>)`; an error of several lines goes below, indented, instead.
const errorLines = (group: PlanGroup, label: string, names: string, style: Style): string[] => {
  const error = printable(group.error ?? label);
  if (!error.includes('\n')) return [style.red(`${hostCount(group.hosts)}: ${label} (${names}: ${error})`)];
  return [style.red(`${hostCount(group.hosts)}: ${label} (${names}):`), ...error.split('\n').map((line) => style.red(`    ${line}`))];
};

const warningLines = (group: PlanGroup, style: Style): string[] =>
  (group.warnings ?? []).map(({ step, text }) => style.yellow(`    ${step}: warning: ${text}`));

/**
 * The groups as lines: `46 hosts (cas-001…cas-046):` with the changes indented below as
 * `    firewall (ufw): + allow 12000:12050/tcp in on eth0`; `3 hosts: already compliant`;
 * `1 host: unreachable (cas-050: connection refused)`; `2 hosts: failed (cas-003, cas-007: …)`.
 */
export const formatPlanGroups = (groups: readonly PlanGroup[], style: Style, options: FormatPlanGroupsOptions = {}): string[] => {
  const limit = options.hostLimit ?? DEFAULT_HOST_LIST_LIMIT;
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every kind; tsc checks the string[] return
  return groups.flatMap((group): string[] => {
    const names = compactHostNames(group.hosts, limit);
    switch (group.kind) {
      case 'changes':
        return [
          style.yellow(`${hostCount(group.hosts)} (${names}):`),
          ...(group.changes ?? []).flatMap(({ step, summaries }) =>
            summaries.map((summary) => `    ${step}: ${paintSummary(summary, style)}`),
          ),
          ...warningLines(group, style),
        ];
      case 'compliant':
        return [
          style.green(`${hostCount(group.hosts)}: already compliant${group.warnings ? ` (${names})` : ''}`),
          ...warningLines(group, style),
        ];
      case 'failed':
        return errorLines(group, 'failed', names, style);
      case 'unreachable':
        return errorLines(group, 'unreachable', names, style);
    }
  });
};
