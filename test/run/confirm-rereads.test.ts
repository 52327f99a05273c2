// The confirmation's re-read of the live tables: when the host is as the apply left it, the apply's
// own fact map is kept, so every plan made from it stands and nothing is planned again.
import test from 'ava';
import type { Fact } from '../../src/facts/fact.ts';
import type { FactOutcome } from '../../src/facts/gather-script.ts';
import { withRereads } from '../../src/run/host-transaction.ts';
import { planStep } from '../../src/run/plan-step.ts';
import { defineStep } from '../../src/steps/step.ts';

const tables: Fact<{ readonly rules: readonly string[] }> = {
  id: 'tables',
  script: 'iptables-save',
  parse: (output) => ({ rules: output.split('\n') }),
};

const plannedFrom = () => {
  const seen: (readonly string[])[] = [];
  const step = defineStep({
    name: 'ssh open',
    facts: { tables },
    plan: ({ tables: { rules } }) => {
      seen.push(rules);
      return rules.includes('-A INPUT -p tcp --dport 22 -j ACCEPT')
        ? { changes: [], noop: 'open' }
        : { changes: [{ summary: '+ 22/tcp', command: { script: 'true', display: 'true' } }] };
    },
  });
  return { step, seen };
};

const outcome = (...rules: string[]): FactOutcome => ({ ok: true, value: { rules } });

test('tables read again as the apply left them: the same map, and no step planned again', (t) => {
  const { step, seen } = plannedFrom();
  const facts = new Map([['tables', outcome('-A INPUT -p tcp --dport 22 -j ACCEPT')]]);
  const before = planStep(step, facts);
  const confirmed = withRereads(facts, [['tables', outcome('-A INPUT -p tcp --dport 22 -j ACCEPT')]]);
  t.is(confirmed, facts);
  t.is(planStep(step, confirmed), before);
  t.is(seen.length, 1);
});

test('tables that moved after the apply: a copy holding the new read, planned afresh; the apply map is kept', (t) => {
  const { step, seen } = plannedFrom();
  const facts = new Map([['tables', outcome('-A INPUT -p tcp --dport 22 -j ACCEPT')]]);
  planStep(step, facts);
  const moved = withRereads(facts, [['tables', outcome('-A INPUT -j DROP')]]);
  t.not(moved, facts);
  t.deepEqual(facts.get('tables'), outcome('-A INPUT -p tcp --dport 22 -j ACCEPT'));
  t.is(planStep(step, moved).plan?.changes.length, 1, 'the login port is no longer open: a change is pending');
  t.is(seen.length, 2);
});
