// Scenario detection, findings of every severity and drift, from gather outputs captured on real lab
// hosts (see test/helpers/audit-fixture.ts) and small edits of them.
import test from 'ava';
import { auditFixture, codes } from '../helpers/audit-fixture.ts';

const b64 = (text: string) => Buffer.from(text, 'latin1').toString('base64');
// The gate.properties section of a captured gather, replaced by `content`.
const withGateProperties =
  (content: string) =>
  (text: string): string =>
    text.replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the gather output separates facts with RS (\u001e)
      /(\u001ecasfleet-fact file\.stat:\/batm\/config\/gate\.properties\n)stat (\d+) (\d+) (\d+) \d+ (.*)\ncontent\n[\s\S]*?\nend\n/,
      (_, head: string, uid: string, gid: string, mode: string, rest: string) =>
        `${head}stat ${uid} ${gid} ${mode} ${Buffer.byteLength(content, 'latin1')} ${rest}\ncontent\n${b64(content)}\nend\n`,
    );

test('a Scenario A host: detected as A with its evidence, no drift, only info findings', async (t) => {
  const audit = await auditFixture('scenario-a');
  t.is(audit.scenario, 'A');
  t.deepEqual(
    audit.evidence.map((entry) => entry.says),
    ['A', 'A', 'A'],
  );
  t.regex(audit.evidence.map((entry) => entry.text).join('\n'), /batm\.vpn-skip is not set/);
  t.deepEqual(audit.drift, { against: 'scenario-a', changes: [], warnings: [] });
  t.deepEqual(codes(audit, 'critical'), []);
  t.deepEqual(codes(audit, 'warning'), []);
  t.deepEqual(codes(audit), ['scenario', 'ssh-open']);
  t.deepEqual(audit.firewall, {
    backend: 'ufw',
    enabled: true,
    defaultIncoming: 'deny',
    persistence: null,
    kernel: { loaded: true, inSync: true, inputPolicy: 'DROP', drift: [], ruleFiles: [], unreadable: [], foreignRules: [], forwarded: [] },
  });
  t.deepEqual(audit.services, { gate: 'running', master: 'running', admin: 'running' });
  t.deepEqual(audit.vpnSide, { address: '10.3.2.1', probedFrom: '10.98.1.1' });
  t.deepEqual(audit.rules['7741'], { anyone: 'block', from: [] });
});

test('a Scenario B host: detected as B, 7741 allowed from the VPN router only, no drift', async (t) => {
  const audit = await auditFixture('scenario-b');
  t.is(audit.scenario, 'B');
  t.deepEqual(
    audit.evidence.map((entry) => entry.says),
    ['B', 'B', 'B'],
  );
  t.deepEqual(audit.rules['7741'], { anyone: 'block', from: ['10.8.0.0/24'] });
  t.deepEqual(audit.drift.changes, []);
  t.deepEqual(codes(audit, 'critical'), []);
  t.deepEqual(codes(audit, 'warning'), []);
});

test('ufw disabled: critical firewall, pairing, admin GUI and master findings; drift is enabling ufw', async (t) => {
  const audit = await auditFixture('ufw-disabled');
  t.is(audit.scenario, 'A');
  t.deepEqual(audit.firewall?.backend, 'none');
  t.deepEqual(codes(audit, 'critical').sort(), [
    'admin-gui-exposed',
    'firewall-disabled',
    'master-exposed',
    'master-exposed',
    'pairing-port-open',
  ]);
  t.true(codes(audit, 'warning').includes('drift'));
  t.deepEqual(audit.drift.changes[0]?.summaries.slice(0, 1), ['+ enable ufw']);
  // Without a firewall "allowed by the rules" would only repeat firewall-disabled.
  t.false(codes(audit).some((code) => code.endsWith('-allowed')));
});

test('a hand rule outside ufw opening 7777: critical, and the message says ufw blocks it', async (t) => {
  const audit = await auditFixture('hand-rule-7777');
  t.is(audit.scenario, 'A');
  const [finding] = audit.findings.filter((entry) => entry.severity === 'critical');
  t.is(finding?.code, 'admin-gui-exposed');
  t.regex(finding?.message ?? '', /although the ufw rules block it: it is accepted by "-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT"/);
  t.deepEqual(audit.firewall?.kernel?.foreignRules, [{ rule: '-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT', ports: ['7777'] }]);
  t.true(codes(audit, 'warning').includes('foreign-rule'));
  // The ufw step refuses to plan around a foreign rule on a CAS port, so there is no drift to show.
  t.regex(audit.drift.error ?? '', /firewall \(ufw\): .*-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT/);
  t.true(codes(audit, 'warning').includes('drift-unknown'));
});

test('vpn-skip true with the VPN file present is mixed; drift is planned against B (what gate.properties says)', async (t) => {
  const audit = await auditFixture('mixed-vpn-skip');
  t.is(audit.scenario, 'mixed');
  t.deepEqual(
    audit.evidence.map((entry) => entry.says),
    ['B', 'A', 'A'],
  );
  t.true(codes(audit, 'warning').includes('mixed-scenario'));
  t.is(audit.drift.against, 'scenario-b');
  t.true(audit.drift.changes.some((change) => change.summaries.includes('- /batm/config/vpn (backed up first)')));
  t.true(audit.drift.changes.some((change) => change.step === 'handler: restart gate'));
});

test('a B host whose terminal VPN ports answer is mixed (the issue example)', async (t) => {
  const audit = await auditFixture('scenario-b', { probes: { 7742: 'open' } });
  t.is(audit.scenario, 'mixed');
  t.regex(audit.findings.find((finding) => finding.code === 'mixed-scenario')?.message ?? '', /terminal VPN port 7742 answers from here/);
});

test('without probes of the VPN ports, detection falls back to what the rules say', async (t) => {
  const audit = await auditFixture('scenario-b', { probes: { 7742: undefined, 13000: undefined } });
  t.is(audit.scenario, 'B');
  t.is(audit.evidence.at(-1)?.text, 'the firewall blocks the terminal VPN ports');
});

test('a host with no CAS files is unknown, with a warning', async (t) => {
  const noFile = (path: string) => (text: string) =>
    text.replace(new RegExp(`(\\u001ecasfleet-fact file\\.stat:${path.replaceAll('/', '\\/')}\\n)[\\s\\S]*?\\nend\\n`), '$1absent\nend\n');
  const audit = await auditFixture('scenario-a', {
    gather: (text) =>
      noFile('/batm/config/vpn')(noFile('/batm/config/gate.properties')(text)).replace(
        /batm-manage yes\nexit 0\n(\| .*\n)*/,
        'batm-manage no\n',
      ),
  });
  t.is(audit.scenario, 'unknown');
  t.true(codes(audit, 'warning').includes('unknown-scenario'));
  t.is(audit.drift.against, null);
});

test('pairing: true makes an open 7741 expected; without it an open 7741 is critical', async (t) => {
  const open = await auditFixture('scenario-a', { probes: { 7741: 'open' } });
  t.true(codes(open, 'critical').includes('pairing-port-open'));
  const pairing = await auditFixture('scenario-a', {
    probes: { 7741: 'open' },
    vars: { pairing: true, hardwareVpnSubnets: ['10.8.0.0/24'] },
  });
  t.false(codes(pairing).includes('pairing-port-open'));
  t.true(codes(pairing, 'warning').includes('drift'), 'the rules still deny 7741: apply would open it');
});

/** Scenario A's fixture with 7777 answering and allowed (before its deny) from each of `sources`. */
const admin7777AllowedFrom = (sources: readonly string[]) =>
  auditFixture('scenario-a', {
    probes: { 7777: 'open' },
    gather: (text) =>
      text.replace(
        /(\/etc\/ufw\/user\.rules:### tuple ### )deny tcp 7777 0\.0\.0\.0\/0 any 0\.0\.0\.0\/0 in (comment=\w+)/,
        (_match, prefix: string, comment: string) =>
          [
            ...sources.map((source) => `allow tcp 7777 0.0.0.0/0 any ${source} in comment=61`),
            `deny tcp 7777 0.0.0.0/0 any 0.0.0.0/0 in ${comment}`,
          ]
            .map((tuple, index) => (index === 0 ? `${prefix}${tuple}` : `/etc/ufw/user.rules:### tuple ### ${tuple}`))
            .join('\n'),
      ),
  });

test("adminGui: 'open' accepts an open 7777; adminAllowFrom makes it information", async (t) => {
  const gui = await auditFixture('hand-rule-7777', { vars: { adminGui: 'open' } });
  t.false(codes(gui).includes('admin-gui-exposed'));
  const restricted = await admin7777AllowedFrom(['203.0.113.7']);
  t.deepEqual(restricted.rules['7777'], { anyone: 'block', from: ['203.0.113.7'] });
  t.true(codes(restricted, 'info').includes('admin-gui-restricted'));
  t.false(codes(restricted, 'critical').includes('admin-gui-exposed'));
});

test('7777 allowed from sources wider than a /8 is exposed, not restricted', async (t) => {
  const halves = await admin7777AllowedFrom(['0.0.0.0/1', '128.0.0.0/1']);
  t.deepEqual(halves.rules['7777'], { anyone: 'block', from: ['0.0.0.0/1', '128.0.0.0/1'] });
  t.false(codes(halves).includes('admin-gui-restricted'));
  const exposed = halves.findings.find((found) => found.code === 'admin-gui-exposed');
  t.is(exposed?.severity, 'critical');
  t.regex(exposed?.message ?? '', /allow it from 0\.0\.0\.0\/1, 128\.0\.0\.0\/1, too wide to be a restriction/);
});

test('master reachable on the VPN side is critical, unless probed from inside hardwareVpnSubnets', async (t) => {
  const exposed = await auditFixture('scenario-a', { probes: { '7741@vpn': 'open' } });
  t.true(codes(exposed, 'critical').includes('master-exposed'));
  const fromRouter = await auditFixture('scenario-a', {
    probes: { '7741@vpn': 'open' },
    vars: { hardwareVpnSubnets: ['10.8.0.0/24'], casfleet_vpn_probe_from: '10.8.0.1' },
  });
  t.false(codes(fromRouter).includes('master-exposed'));
});

// The captured Scenario A host during `casfleet pair --for 10m`: the managed deny of 7741 replaced
// where it stands by the window's allow (in the files and the live chains), and the window's timer
// on the host, armed or lost (its process gone, as after a reboot).
const WINDOW_UNTIL = 1796156523; // 2026-12-01T20:22:03Z
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const withPairingWindow =
  (timer: 'armed' | 'lost') =>
  (text: string): string =>
    text
      .replaceAll(
        /### tuple ### deny tcp 7741 (0\.0\.0\.0\/0|::\/0) any (0\.0\.0\.0\/0|::\/0) in comment=\w+/g,
        (_, any: string) =>
          `### tuple ### allow tcp 7741 ${any} any ${any} in comment=${hex('casfleet: gate pairing window until 2026-12-01T20:22:03Z')}`,
      )
      .replaceAll(/(-A ufw6?-user-input -p tcp (?:-m tcp )?--dport 7741) -j DROP/g, '$1 -j ACCEPT')
      .replace(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the gather output separates facts with RS (\u001e)
        /(\u001ecasfleet-fact host\.timers\n)end\n/,
        `$1timer ufw-window-7741-${WINDOW_UNTIL}\n  due ${WINDOW_UNTIL}\n  armed ${WINDOW_UNTIL - 600}\n  mechanism process\n  claim none\n  alive ${timer === 'armed' ? 'yes' : 'no'}\nend\n`,
      );

test('an open pairing window whose timer is armed: 7741 answering is information with its close time, not critical', async (t) => {
  const audit = await auditFixture('scenario-a', { gather: withPairingWindow('armed'), probes: { 7741: 'open', '7741@vpn': 'open' } });
  t.deepEqual(audit.rules['7741'], { anyone: 'allow', from: [] }, 'the edit is the window: 7741 allowed');
  t.deepEqual(audit.drift.changes, [], 'scenario-a leaves an armed window alone');
  t.deepEqual(codes(audit, 'critical'), []);
  t.deepEqual(
    audit.findings.filter((entry) => entry.code.startsWith('pairing') || entry.code.startsWith('master')),
    [
      {
        severity: 'warning',
        code: 'pairing-window-master',
        message:
          "master's 7741 on the VPN-side address answers from here while the pairing window is open (until 2026-12-01T20:22:03Z): its rule allows 7741 on every interface, master's too; GB: master should never be exposed (the 2023 attack came through it): close the window once the terminal has paired",
      },
      {
        severity: 'info',
        code: 'pairing-window',
        message:
          'gate pairing port 7741 answers from here: a pairing window is open until 2026-12-01T20:22:03Z and an on-host timer closes it (casfleet pair --close once the terminal has paired)',
      },
    ],
  );
  // Not probed on the VPN side (no casfleet_vpn_probe_from): the rules stand in, as for any port.
  const unprobed = await auditFixture('scenario-a', {
    gather: withPairingWindow('armed'),
    probes: { 7741: 'open', '7741@vpn': undefined },
  });
  t.deepEqual(codes(unprobed, 'critical'), []);
  t.regex(
    unprobed.findings.find((entry) => entry.code === 'pairing-window-master')?.message ?? '',
    /^master's 7741 on the VPN-side address is not probed from here while/,
  );
});

test('a pairing window whose timer is gone explains nothing: 7741 answering stays critical, and says why', async (t) => {
  const audit = await auditFixture('scenario-a', { gather: withPairingWindow('lost'), probes: { 7741: 'open', '7741@vpn': 'open' } });
  t.deepEqual(codes(audit, 'critical').sort(), ['master-exposed', 'pairing-port-open']);
  t.regex(
    audit.findings.find((entry) => entry.code === 'pairing-port-open')?.message ?? '',
    /; a pairing window was open until 2026-12-01T20:22:03Z but its timer is gone \(lost\): nothing closes it before the next scenario-a run/,
  );
  t.false(codes(audit).includes('pairing-window'));
  t.true(codes(audit, 'warning').includes('drift'), 'the next scenario-a run closes it');
});

test('a window timer without its window rule explains nothing: 7741 answering stays critical', async (t) => {
  // The deny is back in place (written by hand) while the timer still waits: 7741 answers for another reason.
  const timerOnly = (text: string) =>
    withPairingWindow('armed')(text)
      .replaceAll(/ allow tcp 7741 (\S+) any (\S+) in comment=\w+/g, ' deny tcp 7741 $1 any $2 in comment=61')
      .replaceAll(/(--dport 7741) -j ACCEPT/g, '$1 -j DROP');
  const audit = await auditFixture('scenario-a', { gather: timerOnly, probes: { 7741: 'open' } });
  t.deepEqual(audit.rules['7741'], { anyone: 'block', from: [] });
  t.true(codes(audit, 'critical').includes('pairing-port-open'));
  t.false(codes(audit).includes('pairing-window'));
});

test('a stopped gate is a warning; services read from batm-manage info', async (t) => {
  const audit = await auditFixture('scenario-a', { gather: (text) => text.replace('| Gate: running', '| Gate: stopped') });
  t.is(audit.services.gate, 'stopped');
  t.true(codes(audit, 'warning').includes('service-stopped'));
});

test('vars invalid for the detected scenario: the drift says why it was not computed', async (t) => {
  const audit = await auditFixture('scenario-b', { vars: {} });
  t.is(audit.scenario, 'B');
  t.regex(audit.drift.error ?? '', /hardwareVpnSubnets: required/);
  t.true(codes(audit, 'warning').includes('drift-unknown'));
});

test('vpn-skip=false counts as Scenario A evidence', async (t) => {
  const audit = await auditFixture('scenario-a', { gather: withGateProperties('batm.processing-slots=20\nbatm.vpn-skip=false\n') });
  t.is(audit.evidence[0]?.text, 'batm.vpn-skip=false in /batm/config/gate.properties');
  t.is(audit.scenario, 'A');
});

test('findings never name the host: identical hosts read identically', async (t) => {
  const audit = await auditFixture('ufw-disabled');
  for (const finding of audit.findings) t.false(/cas-001|10\.99\.1\.1|10\.98\./.test(finding.message), finding.message);
});

test('live ufw chains that differ from its files: warning, with what differs', async (t) => {
  // A rule deleted by hand from the running ufw-user-input (iptables -D), the files unchanged.
  const audit = await auditFixture('scenario-a', {
    gather: (text) => text.replace('-A ufw-user-input -p tcp -m tcp --dport 7777 -j DROP\n', ''),
  });
  t.false(audit.firewall?.kernel?.inSync);
  const finding = audit.findings.find((entry) => entry.code === 'firewall-out-of-sync');
  t.is(finding?.severity, 'warning');
  t.regex(finding?.message ?? '', /ufw-user-input runs \d+ rules, \/etc\/ufw\/user\.rules has \d+/);
});

test('a CAS port DNATed past INPUT (Docker-published) is reported with the rule', async (t) => {
  const audit = await auditFixture('scenario-a', {
    gather: (text) =>
      text
        .replace('forwarding4 0', 'forwarding4 1')
        .replace(':FORWARD DROP [0:0]', ':FORWARD ACCEPT [0:0]')
        .replace(
          '-A PREROUTING -p tcp -m tcp --dport 7742',
          '-A PREROUTING -p tcp -m tcp --dport 7777 -j DNAT --to-destination 172.17.0.2:7777\n-A PREROUTING -p tcp -m tcp --dport 7742',
        ),
  });
  t.deepEqual(audit.firewall?.kernel?.forwarded, [
    {
      port: '7777',
      rule: '-A PREROUTING -p tcp -m tcp --dport 7777 -j DNAT --to-destination 172.17.0.2:7777 (FORWARD: FORWARD policy ACCEPT)',
    },
  ]);
  t.true(codes(audit, 'warning').includes('forwarded-port'));
});

test('tables that cannot be read (no root) are information, not a guess', async (t) => {
  const audit = await auditFixture('scenario-a', {
    gather: (text) =>
      text.replace(
        /tables4 begin\n[\s\S]*?\ntables4 exit 0/,
        'tables4 begin\niptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n\ntables4 exit 4',
      ),
  });
  t.is(audit.firewall?.kernel?.inSync, null);
  t.true(codes(audit, 'info').includes('kernel-unread'));
});
