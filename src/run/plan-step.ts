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

type PlanResult = { plan?: StepPlan; error?: ErrorInfo };

// Planners are pure, so a step planned again over the very same fact values plans the same. A host's
// pipeline asks for the same plan several times over one fact cache (the check that every step can be
// planned, whether the host will change, the step itself, the transaction's confirmation when the
// tables it re-reads are unchanged: withRereads): the last plan per step is kept with the cache,
// keyed by the identity of the step's fact values (a re-read after a change replaces them), and goes
// with the cache when the host is done, so a large fleet keeps no plans alive.
const lastPlans = new WeakMap<
  ReadonlyMap<string, FactOutcome>,
  Map<Step, { readonly values: readonly unknown[]; readonly result: PlanResult }>
>();

const sameValues = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a.length === b.length && a.every((value, index) => value === b[index]);

/**
 * The step's plan from cached facts, or why there is none: an unreadable fact, the step's refusal
 * (a casfleet error, StepPlanError above all), or an exception nobody meant to throw, which is a bug
 * and must not read as the step refusing.
 */
export const planStep = (step: Step, cache: ReadonlyMap<string, FactOutcome>): PlanResult => {
  const { values, error } = factValues(step.facts, cache);
  if (!values) return { error: error ?? errorInfo('fact', 'facts missing') };
  const inputs = Object.values(values);
  let plans = lastPlans.get(cache);
  if (!plans) {
    plans = new Map();
    lastPlans.set(cache, plans);
  }
  const last = plans.get(step);
  if (last && sameValues(last.values, inputs)) return last.result;
  let result: PlanResult;
  try {
    result = { plan: step.plan(values as never) };
  } catch (planError) {
    result = {
      error: isCasfleetError(planError) ? classifyError(planError, 'plan') : internalError(planError, `the planner of '${step.name}'`),
    };
  }
  plans.set(step, { values: inputs, result });
  return result;
};
