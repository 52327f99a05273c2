// casfleet's rule-file writer (ufw-file-write.ts) against ufw itself, on two lab hosts that start
// from the same files: for each plan, one host runs the plan's command (files written without
// python, loaded once per family, enabled without python), the other runs the same operations as
// real `ufw` commands, one by one. user.rules / user6.rules must be byte-identical, and the kernel
// (iptables-save / ip6tables-save without counters), `ufw status numbered` and `ufw status verbose`
// the same, for the rule shapes the playbooks use: single ports, ranges, tcp/udp/any, sources (v4
// and v6), v6 twins, comments, interfaces, deny/reject/limit, deletes, inserts at positions, moves,
// comment replacements, hand rules made before casfleet and after it.
import type { ExecutionContext } from 'ava';
import { stdinText } from '../../src/command/stdin-parts.ts';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { networkInterfaces } from '../../src/facts/network.ts';
import { parseSshConnection } from '../../src/facts/ssh-connection.ts';
import { type UfwState, ufwState } from '../../src/facts/ufw.ts';
import type { ManagedRuleInput } from '../../src/steps/ufw-managed-rule.ts';
import { type UfwRuleSetArgs, ufwRuleSet } from '../../src/steps/ufw-rules.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the } = labForFile({ hosts: 2, prefix: 'ufwfil' });
const [REAL, WRITER] = ['cas-001', 'cas-002'] as const;

const onHost = async (host: string, script: string, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> => {
  const result = await the().exec(host, ['sh', '-c', 'printf %s "$1" | sh -c "$0"', script, stdin]);
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
};
const ok = async (host: string, script: string): Promise<string> => {
  const result = await onHost(host, script);
  if (result.code !== 0) throw new Error(`${host}: exit ${result.code}: ${result.stdout}${result.stderr}`);
  return result.stdout;
};
const both = (script: string) => Promise.all([ok(REAL, script), ok(WRITER, script)]);

// The plan's SSH session: the controller's address on the lab bridge does not matter to the plan
// as long as the SSH allow covers it (22/tcp from anywhere).
const SESSION = parseSshConnection(
  'ssh-connection 10.99.0.1 40000 10.99.1.1 22\nroute-lookup\n10.99.0.1 dev eth0 src 10.99.1.1 uid 0 \n    cache \nend\n',
);
const gather = async (host: string) => ({
  ufw: ufwState.parse(await ok(host, ufwState.script)),
  network: networkInterfaces.parse(await ok(host, networkInterfaces.script)),
  kernel: kernelFirewall.parse(await ok(host, kernelFirewall.script)),
  session: SESSION,
  timers: [],
});

/** Everything a rule change may change: kernel rules (no counters, no comment lines), ufw's view and files. */
const STATE = `for exe in iptables-save ip6tables-save; do echo "== $exe"; $exe | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'; done
echo '== status numbered'; ufw status numbered
echo '== status verbose'; ufw status verbose
for f in /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules; do echo "== $f"; cat "$f"; done`;

const statusRowCount = (status: string): number => status.split('\n').filter((line) => /^\[\s*\d+\]/.test(line)).length;

/**
 * Plans `args` from the writer host's facts (the other host must have the same), runs the plan's
 * command there and its ufw operations as ufw commands on the other, and compares both hosts.
 */
const applyBoth = async (t: ExecutionContext, when: string, args: UfwRuleSetArgs): Promise<UfwState> => {
  const facts = await gather(WRITER);
  t.deepEqual((await gather(REAL)).ufw, facts.ufw, `${when}: both hosts start from the same ufw state`);
  const plan = ufwRuleSet(args).plan(facts);
  const change = plan.changes[0];
  if (!change) throw new Error(`${when}: nothing planned (${plan.noop})`);
  const { command } = change;
  // The display lists the operations as ufw commands (and the vpngen re-apply) after the writer's lines.
  const operations = command.display.split('\n').filter((line) => line.startsWith('ufw ') || line.startsWith('[ -f '));
  const written = await onHost(WRITER, command.script, stdinText(change.stdin ?? ''));
  t.is(written.code, 0, `${when}: ${written.stdout}${written.stderr}`);
  t.regex(written.stdout, /^wrote: \/etc\/ufw\/user\.rules/m, `${when}: the writer wrote the files`);
  t.notRegex(written.stdout, /^> ufw /m, `${when}: no python`);
  t.is(written.stderr, '', `${when}: no fallback`);
  await ok(REAL, operations.join(' &&\n'));
  const [real, writer] = await both(STATE);
  t.is(writer, real, `${when}: same files, kernel and status`);
  const after = await gather(WRITER);
  t.is(statusRowCount(real.split('== status numbered')[1] ?? ''), after.ufw.rules.v4.length + after.ufw.rules.v6.length);
  t.deepEqual(ufwRuleSet(args).plan(after).changes, [], `${when}: the re-plan is empty`);
  return after.ufw;
};

const rule = (
  action: ManagedRuleInput['action'],
  port: ManagedRuleInput['port'],
  comment: string,
  extra: Partial<ManagedRuleInput> = {},
): ManagedRuleInput => ({ action, port, comment, ...extra });

const SSH = rule('allow', 22, 'ssh', { proto: 'tcp' });
const A: ManagedRuleInput[] = [
  SSH,
  rule('allow', 7742, 'terminal VPN', { proto: 'tcp', interface: 'default-route' }),
  rule('allow', [13000, 13010], 'terminal VPN instances', { proto: 'tcp', interface: 'eth0' }),
  rule('allow', [12000, 12050], 'admin VPN', { proto: 'tcp', interface: 'default-route' }),
  rule('allow', 53, 'dns, both protocols'),
  rule('allow', 1194, 'router udp', { proto: 'udp', from: '10.8.0.0/24' }),
  rule('allow', 7743, 'extensions over v6', { proto: 'tcp', from: 'fd00::/64' }),
  rule('limit', 2200, 'limited login', { proto: 'tcp' }),
  rule('reject', 7744, 'rejected, both protocols'),
  rule('reject', 7745, 'rejected tcp', { proto: 'tcp' }),
  rule('deny', 7746, 'dropped udp', { proto: 'udp' }),
  rule('deny', 7741, 'gate closed', { proto: 'tcp' }),
  rule('deny', 7777, 'admin GUI closed', { proto: 'tcp' }),
];
// Terminal VPN closed, the gate opened from the router's subnet before its deny, a comment
// changed in place, the reject moved before the dns allow.
const B: ManagedRuleInput[] = [
  SSH,
  rule('allow', [12000, 12050], 'admin VPN', { proto: 'tcp', interface: 'default-route' }),
  rule('reject', 7744, 'rejected, both protocols'),
  rule('allow', 53, 'dns (resolver)'),
  rule('allow', 1194, 'router udp', { proto: 'udp', from: '10.8.0.0/24' }),
  rule('allow', 7743, 'extensions over v6', { proto: 'tcp', from: 'fd00::/64' }),
  rule('limit', 2200, 'limited login', { proto: 'tcp' }),
  rule('allow', 7741, 'gate via router', { proto: 'tcp', from: '10.8.0.0/24' }),
  rule('deny', 7741, 'gate closed', { proto: 'tcp' }),
  rule('deny', 7777, 'admin GUI closed', { proto: 'tcp' }),
];
const ruleSet = (rules: ManagedRuleInput[]): UfwRuleSetArgs => ({ defaultIncoming: 'deny', enabled: true, rules });

serial('the writer writes the files ufw writes and the kernel runs what ufw runs, over A → B → A and hand rules', async (t) => {
  // Hand rules made before casfleet (ufw writes its files and keeps them through every plan).
  await both(
    "ufw allow 2222/tcp >/dev/null && ufw deny from 192.168.9.0/24 >/dev/null && ufw allow from 2001:db8::/32 to any port 9000 proto udp comment 'by hand' >/dev/null",
  );
  const first = await applyBoth(t, 'first apply (enable)', ruleSet(A));
  t.true(first.enabled);
  await applyBoth(t, 'A → B', ruleSet(B));
  await applyBoth(t, 'B → A', ruleSet(A));
  // A rule added by hand after casfleet's apply works and survives the next run.
  await both('ufw allow 8080/tcp >/dev/null');
  const next = ruleSet(A.map((r) => (r.port === 7777 ? { ...r, comment: 'admin GUI closed (by policy)' } : r)));
  const kept = await applyBoth(t, 'after a hand ufw allow 8080/tcp', next);
  t.true(
    kept.rules.v4.some((r) => r.dport === '8080' && r.comment === ''),
    'the hand rule is still in user.rules',
  );
  t.true(
    kept.rules.v6.some((r) => r.dport === '8080' && r.comment === ''),
    'and in user6.rules',
  );
  t.regex(await ok(WRITER, 'ufw status numbered'), /8080\/tcp\s+ALLOW IN\s+Anywhere/);
  t.regex(await ok(WRITER, 'iptables -S ufw-user-input'), /--dport 8080 -j ACCEPT/);
});

// The plan was made from the tuple lines the facts read; a rule added by hand before the command
// runs makes the writer change nothing and hand the operations to ufw's python, which keeps both.
serial('a rule added by hand between the facts and the write: the writer steps aside for ufw itself', async (t) => {
  const facts = await gather(WRITER);
  const args = ruleSet([...A, rule('allow', 7800, 'planned after the facts', { proto: 'tcp' })]);
  const change = ufwRuleSet(args).plan(facts).changes[0];
  if (!change) throw new Error('nothing planned');
  await ok(WRITER, 'ufw allow 8090/tcp >/dev/null');
  const written = await onHost(WRITER, change.command.script, stdinText(change.stdin ?? ''));
  t.is(written.code, 0, written.stdout + written.stderr);
  t.regex(
    written.stderr,
    /the rules in \/etc\/ufw\/user\.rules or \/etc\/ufw\/user6\.rules changed since its facts were read: running ufw's python instead/,
  );
  t.notRegex(written.stdout, /^wrote: /m);
  const after = (await gather(WRITER)).ufw;
  for (const family of ['v4', 'v6'] as const) {
    t.true(
      after.rules[family].some((r) => r.dport === '8090'),
      `${family}: the hand rule is kept`,
    );
    t.true(
      after.rules[family].some((r) => r.dport === '7800'),
      `${family}: the planned rule is there`,
    );
  }
});
