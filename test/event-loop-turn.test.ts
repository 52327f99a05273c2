// The turn-taker of long start-up loops: a turn of the event loop once the budget is spent, none before.
import test from 'ava';
import { hostWorkTurn, turnTaker } from '../src/event-loop-turn.ts';

test('no turn while the budget lasts', (t) => {
  const takeTurn = turnTaker(60_000);
  for (let i = 0; i < 1000; i += 1) t.is(takeTurn(), undefined);
});

test('a spent budget takes a turn: an immediate queued before it runs first', async (t) => {
  const takeTurn = turnTaker(0);
  const order: string[] = [];
  setImmediate(() => order.push('queued before'));
  await takeTurn();
  order.push('after the turn');
  t.deepEqual(order, ['queued before', 'after the turn']);
});

test('host work turns: one section per turn of the event loop, in arrival order, with timers in between', async (t) => {
  const order: string[] = [];
  const section = async (name: string): Promise<void> => {
    await hostWorkTurn();
    order.push(name);
    // A timer that falls due while this section runs must run before the next section does.
    setTimeout(() => order.push(`timer of ${name}`), 1);
    const end = performance.now() + 5;
    while (performance.now() < end);
  };
  await Promise.all(['a', 'b', 'c'].map(section));
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.deepEqual(order, ['a', 'timer of a', 'b', 'timer of b', 'c', 'timer of c']);
});

test('host work turns: a caller alone waits one turn, and a later burst is served again', async (t) => {
  const order: string[] = [];
  setImmediate(() => order.push('queued before'));
  await hostWorkTurn();
  order.push('alone');
  await Promise.all([hostWorkTurn().then(() => order.push('x')), hostWorkTurn().then(() => order.push('y'))]);
  t.deepEqual(order, ['queued before', 'alone', 'x', 'y']);
});
