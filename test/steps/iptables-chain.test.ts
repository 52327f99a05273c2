// The iptables backend's rendering: the managed chain in GB's order, and (root only) proof that the
// rendered lines are exactly what iptables-save prints back, for the nf_tables and the legacy
// iptables alike, so "running rules equal the plan" can compare lines.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { scenarioAVarsSchema, scenarioBVarsSchema } from '../../src/cas/cas-vars.ts';
import { scenarioAIptablesRules, scenarioBIptablesRules } from '../../src/cas/firewall-policy.ts';
import { renderBootUnit, renderRulesFile } from '../../src/steps/iptables-boot.ts';
import {
  type ChainLines,
  JUMP_RULE,
  JUMP_SPEC,
  MANAGED_CHAIN,
  type ResolvedRule,
  renderChains,
  ruleLines,
} from '../../src/steps/iptables-chain.ts';
import { managedRuleSchema } from '../../src/steps/ufw-managed-rule.ts';

const eth0 = (name: string | undefined): string => (name === 'default-route' ? 'eth0' : (name ?? ''));
const managed = (rules: unknown[]) => rules.map((rule) => managedRuleSchema.parse(rule) as ResolvedRule);

test('Scenario A in GB order: loopback, established, SSH, admin VPN, 7777, 7741, terminal VPN, 7743, then the drop', (t) => {
  const rules = managed(scenarioAIptablesRules(scenarioAVarsSchema.parse({ sshPort: 22 })));
  const { v4, v6 } = renderChains(rules, eth0, 'eth0', ['v4']);
  t.deepEqual(v6, []);
  t.deepEqual(v4, [
    '-A CASFLEET-INPUT -i lo -m comment --comment "casfleet: loopback" -j ACCEPT',
    '-A CASFLEET-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "casfleet: established and related" -j ACCEPT',
    '-A CASFLEET-INPUT -p tcp -m tcp --dport 22 -m comment --comment "casfleet: SSH" -j ACCEPT',
    '-A CASFLEET-INPUT -i eth0 -p tcp -m tcp --dport 12000:12050 -m comment --comment "casfleet: administration VPN" -j ACCEPT',
    '-A CASFLEET-INPUT -p tcp -m tcp --dport 7777 -m comment --comment "casfleet: admin GUI closed" -j DROP',
    '-A CASFLEET-INPUT -p tcp -m tcp --dport 7741 -m comment --comment "casfleet: gate pairing closed" -j DROP',
    '-A CASFLEET-INPUT -i eth0 -p tcp -m tcp --dport 7742 -m comment --comment "casfleet: terminal VPN" -j ACCEPT',
    '-A CASFLEET-INPUT -i eth0 -p tcp -m tcp --dport 13000:13010 -m comment --comment "casfleet: terminal VPN instances" -j ACCEPT',
    '-A CASFLEET-INPUT -p tcp -m tcp --dport 7743 -m comment --comment "casfleet: extensions closed" -j DROP',
    '-A CASFLEET-INPUT -i eth0 -m comment --comment "casfleet: everything else on the public interface" -j DROP',
  ]);
});

test('IPv6 gets neighbour discovery before the drop; an IPv4 source stays out of the IPv6 chain', (t) => {
  const rules = managed(scenarioBIptablesRules(scenarioBVarsSchema.parse({ sshPort: 22, hardwareVpnSubnets: '10.8.0.0/24' })));
  const { v4, v6 } = renderChains(rules, eth0, 'eth0', ['v4', 'v6']);
  t.true(
    v4.includes(
      '-A CASFLEET-INPUT -s 10.8.0.0/24 -p tcp -m tcp --dport 7741 -m comment --comment "casfleet: gate/master via hardware VPN" -j ACCEPT',
    ),
  );
  t.false(v6.some((line) => line.includes('10.8.0.0')));
  t.is(v6.filter((line) => line.includes('--icmpv6-type')).length, 4);
  t.is(v6.at(-1), v4.at(-1));
  t.is(v6.length, v4.length - 1 + 4);
});

test('a rule without proto is a tcp and a udp line; reject answers like iptables-save prints it', (t) => {
  const [rule] = managed([{ action: 'reject', port: 53, from: 'fd00::1', comment: 'x' }]);
  t.deepEqual(ruleLines(rule!, 'v4', ''), []);
  t.deepEqual(ruleLines(rule!, 'v6', 'ens3'), [
    '-A CASFLEET-INPUT -s fd00::1/128 -i ens3 -p tcp -m tcp --dport 53 -m comment --comment "casfleet: x" -j REJECT --reject-with tcp-reset',
    '-A CASFLEET-INPUT -s fd00::1/128 -i ens3 -p udp -m udp --dport 53 -m comment --comment "casfleet: x" -j REJECT --reject-with icmp6-port-unreachable',
  ]);
});

test('the boot file holds the chain and its jump as iptables-save shows them; the unit loads both families', (t) => {
  const file = renderRulesFile('v4', ['-A CASFLEET-INPUT -i lo -j ACCEPT']);
  t.regex(file, /^# casfleet: /);
  t.true(file.endsWith(`*filter\n:${MANAGED_CHAIN} - [0:0]\n${JUMP_RULE}\n-A CASFLEET-INPUT -i lo -j ACCEPT\nCOMMIT\n`));
  const unit = renderBootUnit(['v4', 'v6'], { v4: '/usr/sbin/iptables-restore', v6: '/usr/sbin/ip6tables-restore' });
  t.regex(unit, /^Before=network-pre\.target$/m);
  t.regex(unit, /^ExecStart=\/usr\/sbin\/iptables-restore --noflush \/etc\/iptables\/rules\.v4$/m);
  t.regex(unit, /^ExecStart=\/usr\/sbin\/ip6tables-restore --noflush \/etc\/iptables\/rules\.v6$/m);
  t.regex(unit, /^WantedBy=multi-user\.target$/m);
});

// ---------- real iptables (root): the rendered lines are iptables-save's own ----------

const canRun =
  process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v iptables-legacy-restore && command -v iptables-nft-restore']).status === 0;
const real = canRun ? test.serial : test.serial.skip;

const everyOption = (): ChainLines => {
  const a = scenarioAIptablesRules(
    scenarioAVarsSchema.parse({
      sshPort: 22,
      pairing: true,
      adminAllowFrom: ['192.0.2.10', '2001:db8::7'],
      extensions: { allowFrom: ['fd00:a000::/20'] },
      proxy: true,
    }),
  );
  const b = scenarioBIptablesRules(
    scenarioBVarsSchema.parse({ sshPort: 2222, hardwareVpnSubnets: '10.8.0.0/24', sshAllowFrom: '203.0.113.0/24' }),
  );
  const extra = [
    { action: 'reject', port: 5000, comment: 'both protocols' },
    { action: 'deny', port: 5001, from: '198.51.100.9', comment: 'one host' },
  ];
  return renderChains(managed([...a, ...b, ...extra]), eth0, 'eth0', ['v4', 'v6']);
};

for (const variant of ['nft', 'legacy'] as const) {
  real(`iptables-${variant}-save prints the rendered chain back unchanged, in both families`, (t) => {
    const netns = `casfleet-ipt-${variant}-${process.pid}`;
    const chains = everyOption();
    t.is(spawnSync('ip', ['netns', 'add', netns]).status, 0);
    try {
      for (const family of ['v4', 'v6'] as const) {
        const tool = `${family === 'v4' ? 'iptables' : 'ip6tables'}-${variant}`;
        const input = ['*filter', `:${MANAGED_CHAIN} - [0:0]`, ...chains[family], `-I INPUT 1 ${JUMP_SPEC}`, 'COMMIT', ''].join('\n');
        const load = spawnSync('ip', ['netns', 'exec', netns, `${tool}-restore`, '--noflush'], { input, encoding: 'utf8' });
        t.is(load.status, 0, load.stderr);
        const saved = spawnSync('ip', ['netns', 'exec', netns, `${tool}-save`, '-t', 'filter'], { encoding: 'utf8' }).stdout.split('\n');
        t.deepEqual(
          saved.filter((line) => line.startsWith(`-A ${MANAGED_CHAIN} `)),
          [...chains[family]],
          `${tool}`,
        );
        t.deepEqual(
          saved.filter((line) => line.startsWith('-A INPUT ')),
          [JUMP_RULE],
          `${tool}`,
        );
      }
    } finally {
      spawnSync('ip', ['netns', 'del', netns]);
    }
  });
}
