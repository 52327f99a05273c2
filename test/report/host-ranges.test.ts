import test from 'ava';
import { compactHostNames } from '../../src/report/host-ranges.ts';

const numbered = (from: number, to: number, width = 3, prefix = 'cas-'): string[] =>
  Array.from({ length: to - from + 1 }, (_, index) => `${prefix}${String(from + index).padStart(width, '0')}`);

const compacts = test.macro({
  exec(t, names: readonly string[], expected: string, limit?: number) {
    t.is(compactHostNames(names, limit), expected);
  },
  title: (title, _names: readonly string[], expected: string, _limit?: number) => `${title}: '${expected}'`,
});

test(
  'A run of consecutive names becomes a range and a lone name stays',
  compacts,
  [...numbered(1, 46), 'cas-050'],
  'cas-001…cas-046, cas-050',
);
test('A single host is its name', compacts, ['cas-001'], 'cas-001');
test('No hosts is an empty string', compacts, [], '');
test('Two neighbours stay two names', compacts, ['cas-001', 'cas-002'], 'cas-001, cas-002');
test('Three neighbours become a range', compacts, ['cas-001', 'cas-002', 'cas-003'], 'cas-001…cas-003');
test('Names without a trailing number are listed as they are', compacts, ['bastion', 'db', 'web'], 'bastion, db, web');
test('Names of different widths are not joined', compacts, ['cas-8', 'cas-9', 'cas-10', 'cas-11', 'cas-12'], 'cas-8, cas-9, cas-10…cas-12');
test('A zero-padded run crosses a power of ten', compacts, ['cas-08', 'cas-09', 'cas-10'], 'cas-08…cas-10');
test(
  'The order given is kept, so a descending list is not a range',
  compacts,
  ['cas-003', 'cas-002', 'cas-001'],
  'cas-003, cas-002, cas-001',
);
test('Runs with different prefixes stay apart', compacts, ['eu-1', 'eu-2', 'eu-3', 'us-4', 'us-5', 'us-6'], 'eu-1…eu-3, us-4…us-6');
test('Mixed numbered and plain names', compacts, ['bastion', ...numbered(1, 3), 'db', 'cas-004'], 'bastion, cas-001…cas-003, db, cas-004');
test(
  'IP addresses collapse on their last number',
  compacts,
  ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.4'],
  '10.0.0.1…10.0.0.3, 10.0.1.4',
);
test('A repeated name breaks a run', compacts, ['cas-001', 'cas-002', 'cas-002', 'cas-003'], 'cas-001, cas-002, cas-002, cas-003');
test(
  'Numbers longer than a double holds still compare exactly',
  compacts,
  ['h-90071992547409930', 'h-90071992547409931', 'h-90071992547409932'],
  'h-90071992547409930…h-90071992547409932',
);

test(
  'A long list is cut after the limit and says how many hosts are left out',
  compacts,
  numbered(1, 40).filter((_, index) => index % 2 === 0),
  'cas-001, cas-003, cas-005, cas-007, … +16 more',
  4,
);
test(
  'Hosts left out of a cut list are counted inside ranges too',
  compacts,
  [...numbered(1, 5), 'db', ...numbered(10, 19)],
  'cas-001…cas-005, db, … +10 more',
  2,
);
test('A limit smaller than the first run still shows it', compacts, ['cas-001', 'cas-002', 'db'], 'cas-001, cas-002, … +1 more', 1);
test('A list that fits the limit exactly is not cut', compacts, ['a', 'b', 'c'], 'a, b, c', 3);

test('The default limit keeps eight items', (t) => {
  const names = Array.from({ length: 12 }, (_, index) => `host-${String.fromCharCode(97 + index)}`);
  t.is(compactHostNames(names), 'host-a, host-b, host-c, host-d, host-e, host-f, host-g, host-h, … +4 more');
});
