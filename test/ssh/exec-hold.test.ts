// Finding a held exec's marker lines in output that arrives in chunks (exec-hold.ts).
import test from 'ava';
import { type FoundHold, findHold, type HoldScan, markerLineWatch } from '../../src/ssh/exec-hold.ts';

const MARK = '\u001ehold';

/** Feed `stdout` and `stderr` in chunks of `size`, alternating, until the hold is found. */
const fed = (stdout: string, stderr: string, size: number, start: HoldScan = { stdoutFrom: 0, stderrFrom: 0 }): FoundHold | undefined => {
  for (let at = 0; at < Math.max(stdout.length, stderr.length) + size; at += size) {
    const found = findHold(stdout.slice(0, at + size), stderr.slice(0, at), MARK, start);
    if (found) return found;
  }
  return undefined;
};

test('a marker line is found whatever the chunks it arrives in, on both streams, and only as a line of its own', (t) => {
  const stdout = `facts ${MARK}x\n${'x'.repeat(300)}\nlast\n${MARK}\nafter\n`;
  const stderr = `warn\n${MARK}\n`;
  for (const size of [1, 2, 3, 7, 64, 10_000]) {
    const found = fed(stdout, stderr, size);
    t.is(found?.stdout, `facts ${MARK}x\n${'x'.repeat(300)}\nlast\n`, `chunks of ${size}`);
    t.is(found?.stderr, 'warn\n');
    t.deepEqual(found?.next, { stdoutFrom: stdout.indexOf('after'), stderrFrom: stderr.length });
  }
  t.is(fed(`${MARK}x\n`, `${MARK}\n`, 1), undefined, 'a longer line is not the marker');
  t.is(fed(`${MARK}\n`, 'no marker\n', 1), undefined, 'stdout alone does not hold');
});

test('a hold after an answer is looked for after the last one; a marker right at its start counts', (t) => {
  const first = `a\n${MARK}\n`;
  const stdout = `${first}${MARK}\nb\n${MARK}\n`;
  const stderr = `${MARK}\n${MARK}\n`;
  for (const size of [1, 4, 100]) {
    const found = fed(stdout, stderr, size, { stdoutFrom: first.length, stderrFrom: MARK.length + 1 });
    t.deepEqual(found, { stdout: '', stderr: '', next: { stdoutFrom: first.length + MARK.length + 1, stderrFrom: stderr.length } });
  }
});

test('a stream says a marker line may have come exactly when a chunk completes one', (t) => {
  const stream = `facts\n${MARK}x\nmore\n${MARK}\nafter\n`;
  const completes = stream.indexOf(`${MARK}\n`) + MARK.length + 1;
  for (const size of [1, 2, 5, 64]) {
    const watch = markerLineWatch(MARK);
    const said: number[] = [];
    for (let at = 0; at < stream.length; at += size) if (watch(stream.slice(at, at + size))) said.push(Math.min(at + size, stream.length));
    t.is(said.length, 1, `chunks of ${size}`);
    t.true(said[0]! >= completes && said[0]! - size < completes, `chunks of ${size}`);
  }
});
