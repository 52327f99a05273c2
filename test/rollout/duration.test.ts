import test from 'ava';
import { formatDuration, readDurationMs } from '../../src/rollout/duration.ts';

const formats = test.macro({
  exec(t, ms: number, expected: string) {
    t.is(formatDuration(ms), expected);
    t.is(readDurationMs(expected), ms);
  },
  title: (title, ms: number, expected: string) => `${title}: ${ms} ms reads '${expected}' and back`,
});

test('Zero', formats, 0, '0s');
test('Seconds', formats, 45_000, '45s');
test('Minutes and seconds', formats, 90_000, '1m30s');
test('Hours and minutes', formats, 5_400_000, '1h30m');
test('Milliseconds', formats, 1500, '1s500ms');

test('A number is seconds and must not be negative or infinite', (t) => {
  t.is(readDurationMs(2.5), 2500);
  t.is(readDurationMs(-1), undefined);
  t.is(readDurationMs(Number.POSITIVE_INFINITY), undefined);
});

test('Units are not case-sensitive but must be known', (t) => {
  t.is(readDurationMs('5M'), 300_000);
  t.is(readDurationMs('5d'), undefined);
  t.is(readDurationMs('s'), undefined);
  t.is(readDurationMs(''), undefined);
});
