// The turn-taker of long start-up loops: a turn of the event loop once the budget is spent, none before.
import test from 'ava';
import { turnTaker } from '../src/event-loop-turn.ts';

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
