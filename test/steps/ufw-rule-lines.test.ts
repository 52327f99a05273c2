import test from 'ava';
import { parseUfwState } from '../../src/facts/ufw.ts';
import { ruleLinesMismatches, withRewrittenRuleLines } from '../../src/steps/ufw-rule-lines.ts';

const SSH = 'allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=636173666c6565743a20535348';
const ADMIN = 'deny tcp 7777 0.0.0.0/0 any 0.0.0.0/0 in comment=636173666c6565743a2061646d696e20475549';
const LIMIT_SECTION = [
  '-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix "[UFW LIMIT BLOCK] "',
  '-A ufw-user-limit -j REJECT',
  '-A ufw-user-limit-accept -j ACCEPT',
];

/** The ufw fact's output for a v4-only host whose user.rules holds these lines (after its tuples' prefix is added). */
const ufwWith = (lines: readonly string[], { settings = true, writtenByUfw = true } = {}) =>
  parseUfwState(
    [
      'installed yes',
      'kernel-ipv6 yes',
      'vpngen-rules no',
      'file /etc/ufw/ufw.conf',
      'file /etc/default/ufw',
      'file /etc/ufw/user.rules',
      '/etc/ufw/ufw.conf:ENABLED=yes',
      '/etc/default/ufw:IPV6=no',
      '/etc/default/ufw:DEFAULT_INPUT_POLICY="DROP"',
      ...(settings
        ? [
            '/etc/ufw/ufw.conf:LOGLEVEL=low',
            '/etc/default/ufw:DEFAULT_OUTPUT_POLICY="ACCEPT"',
            '/etc/default/ufw:DEFAULT_FORWARD_POLICY="DROP"',
          ]
        : []),
      ...(writtenByUfw ? ['/etc/ufw/user.rules::ufw-user-limit - [0:0]'] : []),
      ...lines.map((line) => `/etc/ufw/user.rules:${line}`),
      ...(writtenByUfw ? ['/etc/ufw/user.rules:### END RULES ###'] : []),
      'end',
    ].join('\n'),
  );

const asUfwWrites = [
  `### tuple ### ${SSH}`,
  '-A ufw-user-input -p tcp --dport 22 -j ACCEPT',
  `### tuple ### ${ADMIN}`,
  '-A ufw-user-input -p tcp --dport 7777 -j DROP',
  ...LIMIT_SECTION,
];

test('a file as ufw writes it for its tuples has no mismatch', (t) => {
  t.deepEqual(ruleLinesMismatches(ufwWith(asUfwWrites)), []);
});

test('another spelling of the same rule (options reordered, -m tcp) is no mismatch', (t) => {
  const lines = asUfwWrites.map((line) => line.replace('-p tcp --dport 22', '-p tcp -m tcp --dport 22'));
  t.deepEqual(ruleLinesMismatches(ufwWith(lines)), []);
});

test("a line whose verdict is not its tuple's is found, with the lines the tuples give", (t) => {
  const lines = asUfwWrites.map((line) => line.replace('--dport 7777 -j DROP', '--dport 7777 -j ACCEPT'));
  const ufw = ufwWith(lines);
  const [mismatch, ...rest] = ruleLinesMismatches(ufw);
  t.deepEqual(rest, []);
  t.is(mismatch?.path, '/etc/ufw/user.rules');
  t.is(
    mismatch?.detail,
    "ufw-user-input rule 2 is '-A ufw-user-input -p tcp --dport 7777 -j ACCEPT', its tuples give '-A ufw-user-input -p tcp --dport 7777 -j DROP'",
  );
  t.deepEqual(withRewrittenRuleLines(ufw, mismatch ? [mismatch] : []).fileRules.v4, ufwWith(asUfwWrites).fileRules.v4);
});

test('a missing line and an extra line are found', (t) => {
  const missing = asUfwWrites.filter((line) => !line.includes('--dport 7777'));
  t.regex(ruleLinesMismatches(ufwWith(missing))[0]?.detail ?? '', /^ufw-user-input lacks '-A ufw-user-input -p tcp --dport 7777 -j DROP'/);
  const extra = [...asUfwWrites, '-A ufw-user-input -p tcp --dport 8080 -j ACCEPT'];
  t.is(ruleLinesMismatches(ufwWith(extra))[0]?.detail, 'ufw-user-input has 3 rule lines, its tuples give 2');
});

test("the package's template rate-limit section is not judged; ufw's own file's is", (t) => {
  const template = asUfwWrites.filter((line) => !LIMIT_SECTION.includes(line));
  t.deepEqual(ruleLinesMismatches(ufwWith(template, { writtenByUfw: false })), []);
  t.is(ruleLinesMismatches(ufwWith(template)).length, 1);
});

test('without the settings the writer needs (or on a rule it does not mirror) nothing is judged', (t) => {
  const lines = asUfwWrites.map((line) => line.replace('--dport 7777 -j DROP', '--dport 7777 -j ACCEPT'));
  t.deepEqual(ruleLinesMismatches(ufwWith(lines, { settings: false })), []);
  const app = ['### tuple ### allow tcp any 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in', '-A ufw-user-input -p tcp --dport 9999 -j ACCEPT'];
  t.deepEqual(ruleLinesMismatches(ufwWith([...app, ...LIMIT_SECTION])), []);
});
