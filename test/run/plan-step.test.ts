import test from 'ava';
import type { Fact } from '../../src/facts/fact.ts';
import type { FactOutcome } from '../../src/facts/gather-script.ts';
import { planStep } from '../../src/run/plan-step.ts';
import { defineStep, noChange } from '../../src/steps/step.ts';

const flag: Fact<boolean> = { id: 'flag', script: 'echo yes', parse: (output) => output.trim() === 'yes' };

test('a step is planned once per set of fact outcomes it reads', (t) => {
  let plans = 0;
  const step = defineStep({
    name: 'counted',
    facts: { flag },
    plan: ({ flag: value }) => {
      plans += 1;
      return noChange(`flag ${value}`);
    },
  });
  const cache = new Map<string, FactOutcome>([['flag', { ok: true, value: true }]]);
  const first = planStep(step, cache);
  t.is(planStep(step, cache), first);
  t.is(plans, 1);
  // An apply re-reads the facts: new outcomes, a new plan (even when the value is the same).
  cache.set('flag', { ok: true, value: false });
  t.is(planStep(step, cache).plan?.noop, 'flag false');
  t.is(plans, 2);
  // Another host's cache with the same step is planned on its own.
  t.is(planStep(step, new Map<string, FactOutcome>([['flag', { ok: true, value: true }]])).plan?.noop, 'flag true');
  t.is(plans, 3);
});
