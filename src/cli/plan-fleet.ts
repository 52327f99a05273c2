// The fleet-grouped plan: connect, gather facts and plan every selected host in check mode (nothing
// changes), then group identical change sets. Used by `casfleet plan`, `apply --check`, and `apply`
// on a terminal before it asks to go ahead.

import type { EmitEvent } from '../report/events.ts';
import { createPlanCollector } from '../report/host-plans.ts';
import { formatPlanGroups, groupPlans, type PlanGroup } from '../report/plan-groups.ts';
import { runPlaybook, singleStage } from '../run/run-playbook.ts';
import { outputStyle } from './create-reporter.ts';
import type { PreparedRun } from './prepare-run.ts';

/** Plan every selected host in check mode; `emit` also sees the run's events (per-host detail). */
export const planFleet = async (
  prepared: PreparedRun,
  detail: { readonly diff?: boolean; readonly emit?: EmitEvent } = {},
): Promise<PlanGroup[]> => {
  const collector = createPlanCollector();
  await runPlaybook({
    playbook: prepared.playbook.name,
    targets: prepared.targets,
    rollout: singleStage(prepared.targets),
    options: prepared.runOptions({ check: true, diff: Boolean(detail.diff) }),
    connect: prepared.connect,
    emit: (event) => {
      detail.emit?.(event);
      collector.emit(event);
    },
  });
  return groupPlans(collector.plans());
};

export const planHasProblems = (groups: readonly PlanGroup[]): boolean =>
  groups.some((group) => group.kind === 'failed' || group.kind === 'unreachable');

export const plannedHostCount = (groups: readonly PlanGroup[]): number =>
  groups.filter((group) => group.kind === 'changes').reduce((sum, group) => sum + group.hosts.length, 0);

/** The plan as text: a headline, then the groups. */
export const formatFleetPlan = (playbook: string, groups: readonly PlanGroup[], verbose: boolean): string => {
  const style = outputStyle();
  const total = groups.reduce((sum, group) => sum + group.hosts.length, 0);
  const changing = plannedHostCount(groups);
  const lines = [
    `PLAN [${playbook}] for ${total} host${total === 1 ? '' : 's'}: ${changing} would change`,
    '',
    ...formatPlanGroups(groups, style, verbose ? { hostLimit: Number.POSITIVE_INFINITY } : {}),
  ];
  return `${lines.join('\n')}\n`;
};

/** The plan as JSON: groups, and each host's group. */
export const fleetPlanJson = (playbook: string, groups: readonly PlanGroup[]) => ({ playbook, groups });
