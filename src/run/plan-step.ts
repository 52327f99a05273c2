// Planning a step against the facts read so far: shared by the host pipeline (plan, apply,
// re-plan) and the rollout gate (a fresh re-plan must be empty).

import { isCasfleetError } from '../errors.ts';
import type { AnyFact, FactMap } from '../facts/fact.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import { classifyError, type ErrorInfo, errorInfo, internalError } from '../report/error-info.ts';
import type { Step, StepPlan } from '../steps/step.ts';

export const factsOf = (map: FactMap): AnyFact[] => Object.values(map);

/** Each fact once, by id, for one gather exec. */
export const uniqueFacts = (facts: readonly AnyFact[]): AnyFact[] => [...new Map(facts.map((fact) => [fact.id, fact])).values()];

export const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Look up a step's facts in the cache; the first unreadable one is the step's error. */
export const factValues = (
  map: FactMap,
  cache: ReadonlyMap<string, FactOutcome>,
): { values?: Record<string, unknown>; error?: ErrorInfo } => {
  const values: Record<string, unknown> = {};
  for (const [name, fact] of Object.entries(map)) {
    const outcome = cache.get(fact.id);
    if (!outcome) return { error: errorInfo('fact', `fact ${fact.id} was not gathered`) };
    if (!outcome.ok) return { error: classifyError(outcome.error, 'fact') };
    values[name] = outcome.value;
  }
  return { values };
};

/**
 * The step's plan from cached facts, or why there is none: an unreadable fact, the step's refusal
 * (a casfleet error, StepPlanError above all), or an exception nobody meant to throw, which is a bug
 * and must not read as the step refusing.
 */
export const planStep = (step: Step, cache: ReadonlyMap<string, FactOutcome>): PlanResult => {
  const outcomes = factsOf(step.facts).map((fact) => cache.get(fact.id));
  const last = lastPlans.get(step);
  if (last?.outcomes.every((outcome, index) => outcome === outcomes[index])) return last.result;
  const result = planFresh(step, cache);
  lastPlans.set(step, { outcomes, result });
  return result;
};

type PlanResult = { plan?: StepPlan; error?: ErrorInfo };

// Planners are pure: the same fact outcomes (the same objects, as read once) give the same plan. A
// host's steps are planned several times from one read (can every step be planned, will the host
// change, the step's own turn, the confirmation), which costs the controller real time per host for
// a large rule set; each step object belongs to one host's run, so one entry per step is enough.
const lastPlans = new WeakMap<Step, { outcomes: readonly (FactOutcome | undefined)[]; result: PlanResult }>();

const planFresh = (step: Step, cache: ReadonlyMap<string, FactOutcome>): PlanResult => {
  const { values, error } = factValues(step.facts, cache);
  if (!values) return { error: error ?? errorInfo('fact', 'facts missing') };
  try {
    return { plan: step.plan(values as never) };
  } catch (planError) {
    return {
      error: isCasfleetError(planError) ? classifyError(planError, 'plan') : internalError(planError, `the planner of '${step.name}'`),
    };
  }
};
