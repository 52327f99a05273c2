// A host's drift: its detected scenario's playbook planned against the facts of the audit's one
// gather, exactly as `apply --check` plans it (the same steps, the same planners, handlers a changing
// step would notify), without running anything.
import type { Drift } from '../audit/audit-schema.ts';
import type { ScenarioPlaybook } from '../audit/detect-scenario.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import type { PlaybookItem } from '../playbook/define-playbook.ts';
import { type Handler, isFlushHandlers, type Step } from '../steps/step.ts';
import { planStep } from './plan-step.ts';

/** A scenario playbook built for one host from its vars, or why it could not be. */
export type HostPlaybook =
  | { readonly items: readonly PlaybookItem[]; readonly handlers: Readonly<Record<string, Handler>> }
  | { readonly error: string };

export const auditDrift = (
  against: ScenarioPlaybook | null,
  playbook: HostPlaybook | undefined,
  facts: ReadonlyMap<string, FactOutcome>,
): Drift => {
  if (against === null) return { against, changes: [], warnings: [] };
  if (!playbook || 'error' in playbook) return { against, changes: [], warnings: [], error: playbook?.error ?? 'playbook not built' };
  const changes: Drift['changes'] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const notified: string[] = [];
  for (const step of playbook.items.filter((item): item is Step => !isFlushHandlers(item))) {
    const { plan, error } = planStep(step, facts);
    if (!plan) {
      errors.push(`${step.name}: ${error?.message ?? 'no plan'}`);
      continue;
    }
    warnings.push(...(plan.warnings ?? []));
    if (plan.changes.length === 0) continue;
    changes.push({ step: step.name, summaries: plan.changes.map((change) => change.summary) });
    for (const name of step.notify ?? []) if (!notified.includes(name)) notified.push(name);
  }
  for (const name of notified) {
    const handler = playbook.handlers[name];
    changes.push({ step: `handler: ${name}`, summaries: [handler ? `run: ${handler.command.display}` : `no handler named '${name}'`] });
  }
  return { against, changes, warnings, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
};
