// The audit's targets: every host's steps built for both playbooks and both backends, without one
// long task for the whole fleet (an audit's timers, handshakes and signals wait behind it).
import test from 'ava';
import { buildAuditTargets } from '../../src/cli/audit-targets.ts';
import { auditFleet } from '../helpers/audit-fixture.ts';

/** Turns of the event loop that `work` let pass: a chain of immediates counts them. */
const turnsDuring = async <T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> => {
  let turns = 0;
  let running = true;
  const count = (): void => {
    if (!running) return;
    turns += 1;
    setImmediate(count);
  };
  setImmediate(count);
  const result = await work();
  running = false;
  return { result, turns };
};

test('a large fleet is built in turns of the event loop, every host with both playbooks', async (t) => {
  // The playbooks are loaded (and their modules evaluated) once before, so what is counted is the build.
  await buildAuditTargets(auditFleet(1), process.cwd());
  const { result: targets, turns } = await turnsDuring(() => buildAuditTargets(auditFleet(500), process.cwd()));
  t.is(targets.length, 500);
  t.deepEqual(
    targets.slice(0, 2).map((target) => target.name),
    ['cas-001', 'cas-002'],
  );
  for (const target of [targets[0]!, targets.at(-1)!]) {
    t.deepEqual(Object.keys(target.playbooks).sort(), ['scenario-a', 'scenario-b']);
    t.false('error' in target.playbooks['scenario-a'].ufw, 'Scenario A is built for the ufw backend');
  }
  // 500 hosts take well over the 10 ms budget of a task on any machine; one task would be 0-1 turns.
  t.true(turns >= 3, `${turns} turns of the event loop`);
});
