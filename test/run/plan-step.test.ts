// Planning is pure, so the runner keeps the last plan per step and fact cache and hands it out again
// while the step's fact values are the very same; any new value (a re-read after a change) plans afresh.
import test from 'ava';
import type { Fact } from '../../src/facts/fact.ts';
import type { FactOutcome } from '../../src/facts/gather-script.ts';
import { planStep } from '../../src/run/plan-step.ts';
import { defineStep } from '../../src/steps/step.ts';

const count: Fact<{ readonly n: number }> = { id: 'count', script: 'echo 1', parse: (output) => ({ n: Number(output) }) };

const countingStep = () => {
  const seen: number[] = [];
  const step = defineStep({
    name: 'wants three',
    facts: { count },
    plan: ({ count: { n } }) => {
      seen.push(n);
      return n === 3
        ? { changes: [], noop: 'three already' }
        : { changes: [{ summary: `~ ${n} -> 3`, command: { script: 'true', display: 'true' } }] };
    },
  });
  return { step, seen };
};

const cacheOf = (n: number): Map<string, FactOutcome> => new Map([['count', { ok: true, value: { n } }]]);

test('the same fact values plan once; a new value, even an equal one, plans again', (t) => {
  const { step, seen } = countingStep();
  const cache = cacheOf(1);
  const first = planStep(step, cache);
  t.is(planStep(step, cache), first);
  t.deepEqual(seen, [1]);
  t.not(planStep(step, new Map(cache)), first, 'another cache (another host, the stage gate) plans for itself');
  t.deepEqual(seen, [1, 1]);
  cache.set('count', { ok: true, value: { n: 3 } });
  const after = planStep(step, cache);
  t.is(after.plan?.changes.length, 0, 'a re-read after a change replaces the value: planned again');
  t.is(planStep(step, cache), after);
  cache.set('count', { ok: true, value: { n: 3 } });
  planStep(step, cache);
  t.deepEqual(seen, [1, 1, 3, 3]);
});
