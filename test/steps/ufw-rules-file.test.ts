// The rule-file writer against files real ufw 0.36.2 wrote: each test/fixtures/ufw-files/<case>
// holds the ufw commands run in a scratch namespace (test/steps/ufw-scratch.ts), the ufw fact's
// output gathered afterwards, and the user.rules / user6.rules ufw left; the writer, given the
// parsed fact, must produce the same bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseUfwState, type UfwFileFormat } from '../../src/facts/ufw.ts';
import { parseUfwTuple } from '../../src/facts/ufw-tuple.ts';
import { tupleLine, ufwRulesFileText, writerProblem } from '../../src/steps/ufw-rules-file.ts';

const ROOT = join(import.meta.dirname, '../fixtures/ufw-files');

for (const name of readdirSync(ROOT)) {
  const dir = join(ROOT, name);
  const fixture = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { description: string; fact: string[] };
  test(`${name}: ${fixture.description}`, (t) => {
    const state = parseUfwState(`${fixture.fact.join('\n')}\n`);
    const format = state.fileFormat;
    if (format === null) return t.fail('the fact has no file format');
    t.is(ufwRulesFileText('v4', state.rules.v4, format), readFileSync(join(dir, 'user.rules'), 'utf8'));
    t.is(ufwRulesFileText('v6', state.rules.v6, format), readFileSync(join(dir, 'user6.rules'), 'utf8'));
  });
}

const FORMAT: UfwFileFormat = {
  logLevel: 'low',
  policies: { input: 'drop', output: 'accept', forward: 'drop' },
  files: { v4: { writtenByUfw: true, limitChain: true }, v6: { writtenByUfw: true, limitChain: false } },
};

test('tuple lines round-trip through the fact parser', (t) => {
  for (const line of [
    '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=636173666c6565743a20737368',
    '### tuple ### route:allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in_eth0!out_lo',
    '### tuple ### deny_log-all udp 9090 ::/0 any ::/0 in',
    '### tuple ### allow any 53 0.0.0.0/0 any 0.0.0.0/0 out_eth0',
  ]) {
    t.is(tupleLine(parseUfwTuple(line)), line);
  }
});

test('rule shapes the writer leaves to ufw: apps, named ports, limit without a rate-limit chain', (t) => {
  const rule = parseUfwTuple('### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in');
  t.is(writerProblem(rule, 'v4', FORMAT), undefined);
  t.is(writerProblem({ ...rule, dapp: 'OpenSSH' }, 'v4', FORMAT), 'an application rule');
  t.is(writerProblem({ ...rule, dport: 'ssh' }, 'v4', FORMAT), 'a named port');
  t.is(writerProblem({ ...rule, interfaceIn: 'eth0.1' }, 'v4', FORMAT), 'an interface name ufw reads back differently');
  t.is(writerProblem({ ...rule, action: 'limit' }, 'v4', FORMAT), undefined);
  t.is(writerProblem({ ...rule, action: 'limit' }, 'v6', FORMAT), 'a limit rule where the file has no rate-limit chain');
  // The package's template user6.rules declares no limit chain: ufw decides by the kernel, as does the writer.
  const template = { ...FORMAT, files: { ...FORMAT.files, v6: { writtenByUfw: false, limitChain: false } } };
  t.is(writerProblem({ ...rule, action: 'limit' }, 'v6', template), undefined);
});
