// A step is planned once per read of its facts: the same outcomes (the same objects) give the last
// plan back; a new outcome for any of its facts (a re-read) plans again.
import test from 'ava';
import type { Fact } from '../../src/facts/fact.ts';
import type { FactOutcome } from '../../src/facts/gather-script.ts';
import { planStep } from '../../src/run/plan-step.ts';
import { defineStep, noChange } from '../../src/steps/step.ts';

const fact = (id: string): Fact<string> => ({ id, script: 'true', parse: (output) => output });

test('the same fact outcomes plan a step once; a re-read outcome plans it again', (t) => {
  let planned = 0;
  const step = defineStep({
    name: 'counted',
    facts: { a: fact('a'), b: fact('b') },
    plan: ({ a, b }) => {
      planned += 1;
      return a === b ? noChange('equal') : { changes: [{ summary: `${a} -> ${b}`, command: { script: 'true', display: 'true' } }] };
    },
  });
  const cache = new Map<string, FactOutcome>([
    ['a', { ok: true, value: 'x' }],
    ['b', { ok: true, value: 'y' }],
  ]);
  const first = planStep(step, cache);
  t.is(planStep(step, cache), first);
  t.is(planStep(step, new Map(cache)), first, 'another map holding the same outcomes');
  t.is(planned, 1);

  cache.set('b', { ok: true, value: 'x' });
  t.deepEqual(planStep(step, cache).plan?.changes, []);
  t.is(planned, 2);
  cache.set('b', { ok: true, value: 'x' });
  t.is(planStep(step, cache).plan?.changes.length, 0);
  t.is(planned, 3, 'an equal value read again is a new read');
});
