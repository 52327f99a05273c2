// Collects a check-mode run's events into one plan per host (what would change, per step), the
// input of the fleet-grouped plan.
import type { RunEvent } from './events.ts';

export interface HostPlan {
  readonly host: string;
  readonly outcome: 'planned' | 'unreachable' | 'failed';
  readonly changes: Array<{ readonly step: string; readonly summaries: readonly string[] }>;
  /** What steps warned about (compliant or not), e.g. a port forwarded past the firewall. */
  readonly warnings?: Array<{ readonly step: string; readonly text: string }>;
  readonly error?: string;
}

export const createPlanCollector = () => {
  const plans = new Map<
    string,
    { outcome: HostPlan['outcome']; changes: HostPlan['changes']; warnings?: NonNullable<HostPlan['warnings']>; error?: string }
  >();
  const entry = (host: string) => {
    let plan = plans.get(host);
    if (!plan) {
      plan = { outcome: 'planned', changes: [] };
      plans.set(host, plan);
    }
    return plan;
  };
  return {
    emit(event: RunEvent): void {
      if (event.type === 'run-start') for (const host of event.hosts) entry(host);
      if (event.type === 'unreachable') Object.assign(entry(event.host), { outcome: 'unreachable', error: event.error.message });
      if (event.type !== 'step') return;
      const plan = entry(event.host);
      if (event.warnings?.length) {
        plan.warnings ??= [];
        plan.warnings.push(...event.warnings.map((text) => ({ step: event.step, text })));
      }
      if (event.status === 'failed' || event.status === 'rolled-back')
        Object.assign(plan, { outcome: 'failed', error: `${event.step}: ${event.error?.message ?? 'failed'}` });
      else if (event.status === 'changed')
        plan.changes.push({ step: event.kind === 'handler' ? `handler: ${event.step}` : event.step, summaries: event.changes });
    },
    plans(): HostPlan[] {
      return [...plans.entries()].map(([host, plan]) => ({ host, ...plan }));
    },
  };
};
