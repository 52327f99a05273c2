import { join } from 'node:path';
import test from 'ava';
import { UsageError } from '../../src/errors.ts';
import { selectHosts, splitHostPattern } from '../../src/inventory/host-pattern.ts';
import { patternFileReader } from '../../src/inventory/host-pattern-file.ts';
import { loadInventory } from '../../src/inventory/load-inventory.ts';

// bastion (ungrouped), cas-01 (eu, canary), cas-02 (eu, staging), cas-03 (eu), cas-04/05 (us).
const fleet = loadInventory(join('test/fixtures/inventory', 'fleet', 'inventory.yml'));
const reader = patternFileReader(process.cwd());

const selects = test.macro({
  async exec(t, pattern: string, expected: readonly string[]) {
    t.deepEqual(selectHosts(await fleet, pattern, reader), expected);
  },
  title: (title, pattern: string, expected: readonly string[]) => `${title}: '${pattern}' selects ${expected.join(', ')}`,
});

test('A host name', selects, 'cas-01', ['cas-01']);
test('A group name gives the hosts of its children too', selects, 'eu', ['cas-01', 'cas-02', 'cas-03']);
test('all', selects, 'all', ['bastion', 'cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
test('A lone star', selects, '*', ['bastion', 'cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
test('A glob with *', selects, 'cas-0*', ['cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
test('A glob with ?', selects, 'cas-0?', ['cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
test('A glob with a negated character class', selects, 'cas-0[!1-3]', ['cas-04', 'cas-05']);
test('A glob over group names', selects, 'st*', ['cas-02']);
test('ungrouped', selects, 'ungrouped', ['bastion']);
test('A union with colons, in inventory order', selects, 'us:canary', ['cas-01', 'cas-04', 'cas-05']);
test('A union with commas', selects, 'us,canary', ['cas-01', 'cas-04', 'cas-05']);
test('A union without duplicates', selects, 'cas-02:eu:staging', ['cas-01', 'cas-02', 'cas-03']);
test('An intersection', selects, 'eu:&staging', ['cas-02']);
test('An exclusion', selects, 'eu:!canary', ['cas-02', 'cas-03']);
test('An exclusion alone starts from all', selects, '!canary', ['bastion', 'cas-02', 'cas-03', 'cas-04', 'cas-05']);
test('An intersection alone starts from all', selects, '&us', ['cas-04', 'cas-05']);
test('Unions come before exclusions whatever the order written', selects, '!canary:eu', ['cas-02', 'cas-03']);
test('Unions come before intersections whatever the order written', selects, '&staging:eu:us', ['cas-02']);
test('Intersections come before exclusions', selects, 'all:!cas-02:&eu', ['cas-01', 'cas-03']);
test('A regex', selects, '~cas-0[45]', ['cas-04', 'cas-05']);
test('A regex with alternatives', selects, '~cas-0(1|3)$', ['cas-01', 'cas-03']);
// Subscripts count a group's own hosts (cas-02, cas-03) before its children's (canary: cas-01), as
// `ansible -i test/fixtures/inventory/fleet/inventory.yml all --list-hosts --limit 'eu[0]'` does.
test('A subscript picks one host of a group, its own hosts first', selects, 'eu[0]', ['cas-02']);
test('A negative subscript counts from the end', selects, 'eu[-1]', ['cas-01']);
test('A subscript range is inclusive', selects, 'eu[1:2]', ['cas-01', 'cas-03']);
test('An open subscript range runs to the end', selects, 'eu[1:]', ['cas-01', 'cas-03']);
test('A subscript applies to its own part only', selects, 'eu[0]:us', ['cas-02', 'cas-04', 'cas-05']);
test('A pattern file adds one pattern per line', selects, '@test/fixtures/inventory/patterns/limit.txt', ['cas-01', 'cas-04']);
test('A pattern file combines with other parts', selects, '@test/fixtures/inventory/patterns/limit.txt:staging', [
  'cas-01',
  'cas-02',
  'cas-04',
]);

const refuses = test.macro({
  async exec(t, pattern: string, message: string) {
    const inventory = await fleet;
    const error = t.throws(() => selectHosts(inventory, pattern, reader), { instanceOf: UsageError });
    t.is(error?.message, message);
  },
  title: (title, pattern: string) => `${title}: '${pattern}' is a usage error`,
});

test('A misspelt group', refuses, 'cnary', "host pattern 'cnary' matches no host or group (did you mean 'canary'?)");
test('A misspelt exclusion', refuses, 'eu:!cnary', "host pattern '!cnary' matches no host or group (did you mean 'canary'?)");
test('A misspelt intersection', refuses, 'eu:&stging', "host pattern '&stging' matches no host or group (did you mean 'staging'?)");
test('A regex anchored at the start of the name', refuses, '~as-01', "host pattern '~as-01' matches no host or group");
test('An empty selection', refuses, 'canary:&us', "host pattern 'canary:&us' selects no hosts");
test('An empty pattern', refuses, ' , ', 'empty host pattern: name hosts or groups, or use all');
test('An index past the end', refuses, 'eu[5]', "host pattern 'eu[5]': index 5 is out of range ('eu' has 3 hosts)");
test('A missing pattern file', refuses, '@no-such-file.txt', "host pattern file 'no-such-file.txt' does not exist");

test('An invalid regex is a usage error that says so', async (t) => {
  const inventory = await fleet;
  const error = t.throws(() => selectHosts(inventory, '~cas-(', reader), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /^host pattern '~cas-\(' is not a valid regular expression: /);
});

// Ansible's colon split drops an unbalanced bracket: `~[` became `~` (every host), `~cas-[` `~cas-`.
test(
  'An unbalanced bracket',
  refuses,
  '~[',
  "host pattern '~[' has an unbalanced '[': it would be dropped and select more hosts than meant (close the brackets, or separate parts with commas)",
);
test(
  'An unbalanced bracket in a regex',
  refuses,
  '~cas-[',
  "host pattern '~cas-[' has an unbalanced '[': it would be dropped and select more hosts than meant (close the brackets, or separate parts with commas)",
);
test(
  'An unbalanced closing bracket',
  refuses,
  'eu]:us',
  "host pattern 'eu]:us' has an unbalanced ']': it would be dropped and select more hosts than meant (close the brackets, or separate parts with commas)",
);
test(
  'An empty regex',
  refuses,
  '~',
  "host pattern '~' has an empty regular expression, which would match every host (use all for every host)",
);
test(
  'A regex of flags only',
  refuses,
  'eu,~(?i)',
  "host pattern '~(?i)' has an empty regular expression, which would match every host (use all for every host)",
);

test('An unbalanced bracket after a comma is an invalid regex', async (t) => {
  const inventory = await fleet;
  const error = t.throws(() => selectHosts(inventory, 'eu,~cas-[', reader), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /^host pattern '~cas-\[' is not a valid regular expression: /);
});

test('Without a file reader a pattern file cannot be used', async (t) => {
  const inventory = await fleet;
  t.throws(() => selectHosts(inventory, '@limit.txt'), {
    instanceOf: UsageError,
    message: "host pattern '@limit.txt': pattern files are not available here",
  });
});

const splits = test.macro({
  exec(t, pattern: string, expected: readonly string[]) {
    t.deepEqual(splitHostPattern(pattern), expected);
  },
  title: (_title, pattern: string, expected: readonly string[]) =>
    `'${pattern}' splits into ${expected.map((part) => `'${part}'`).join(' ')}`,
});

test(splits, 'eu:!canary', ['eu', '!canary']);
test(splits, 'eu us', ['eu', 'us']);
test(splits, 'eu:us,canary', ['eu:us', 'canary']);
test(splits, 'cas-01:22', ['cas-01:22']);
test(splits, 'cas-[01:03]', ['cas-[01:03]']);
test(splits, ' eu , us ', ['eu', 'us']);
test(splits, 'eu[1:2]:us', ['eu[1:2]', 'us']);
test(splits, 'fe80::1', ['fe80::1']);

test('a mistyped group or host name is answered with the closest name', (t) => {
  const inventory = {
    source: '/x.yml',
    hosts: new Map([['cas-001', { name: 'cas-001', vars: {}, varOrigins: {}, groups: ['all', 'canary'] }]]),
    groups: new Map([
      ['all', { name: 'all', hosts: ['cas-001'], children: ['canary'] }],
      ['canary', { name: 'canary', hosts: ['cas-001'], children: [] }],
    ]),
  };
  t.throws(() => selectHosts(inventory, 'canaryy'), {
    message: "host pattern 'canaryy' matches no host or group (did you mean 'canary'?)",
  });
  t.throws(() => selectHosts(inventory, 'all:!cnary'), { message: /did you mean 'canary'/ });
  t.throws(() => selectHosts(inventory, 'zzzzzz'), { message: "host pattern 'zzzzzz' matches no host or group" });
});
