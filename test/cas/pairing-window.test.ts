// The pairing window's planning per scenario, from facts (no host): what opens, closes or is refused,
// and in which order (timer before opening; closing before disarming).
import test from 'ava';
import { scenarioAVarsSchema, scenarioBVarsSchema } from '../../src/cas/cas-vars.ts';
import { scenarioARules, scenarioBRules } from '../../src/cas/firewall-policy.ts';
import { EXTEND_SLACK_SECONDS, type PairingRequest, planPairing } from '../../src/cas/pairing-window.ts';
import type { FileState } from '../../src/facts/file.ts';
import type { UfwState } from '../../src/facts/ufw.ts';
import type { UfwFamily, UfwRule } from '../../src/facts/ufw-tuple.ts';
import type { HostTimer } from '../../src/host-timer/host-timers.ts';
import type { StepPlan } from '../../src/steps/step.ts';
import { windowComment } from '../../src/steps/ufw-window.ts';
import { ufwRule } from '../helpers/ufw-rule.ts';

const NOW = Date.parse('2026-11-30T15:00:00Z') / 1000;
const OPEN: PairingRequest = { action: 'open', seconds: 900 };

const CLOSED = 'casfleet: gate pairing closed';
const ssh = (family: UfwFamily) => ufwRule(family, 'allow', 'casfleet: SSH', { dport: '22' });
const both = (action: UfwRule['action'], comment: string) => ({
  v4: [ssh('v4'), ufwRule('v4', action, comment)],
  v6: [ssh('v6'), ufwRule('v6', action, comment)],
});

const ufw = (rules: UfwState['rules'], extra: Partial<UfwState> = {}): UfwState => ({
  installed: true,
  enabled: true,
  ipv6: true,
  defaultIncoming: 'deny',
  manageBuiltins: false,
  vpngenRules: false,
  rules,
  fileRules: { v4: [], v6: [] },
  fileFormat: null,
  ...extra,
});

const gateFile = (content: string): FileState => ({
  exists: true,
  type: 'file',
  uid: 0,
  gid: 0,
  owner: 'root',
  group: 'root',
  mode: '644',
  size: content.length,
  content,
});
const timer = (until: number, state: HostTimer['state'] = 'armed'): HostTimer => ({
  id: `ufw-window-7741-${until}`,
  due: until,
  armedAt: NOW - 60,
  mechanism: 'process',
  state,
});

const facts = (rules: UfwState['rules'], more: { timers?: HostTimer[]; gate?: FileState; ufw?: Partial<UfwState> } = {}) => ({
  ufw: ufw(rules, more.ufw),
  gate: more.gate ?? gateFile('batm.processing-slots=20\n'),
  timers: more.timers ?? [],
  clock: NOW,
});

const summaries = (plan: StepPlan) => plan.changes.map((change) => change.summary);
const windowUntil = (seconds: number) => windowComment('gate pairing window', NOW + seconds);

test('opening arms the closing timer first, then replaces the managed deny where it stands', (t) => {
  const plan = planPairing(OPEN, facts(both('deny', CLOSED)));
  t.deepEqual(summaries(plan), [
    `+ timer ufw-window-7741-${NOW + 900}: closes 7741/tcp at 2026-11-30T15:15:00Z (in 15m), on the host`,
    '~ allow 7741/tcp (gate pairing window until 2026-11-30T15:15:00Z) (was: deny 7741/tcp (gate pairing closed))',
  ]);
  const [arm, open] = plan.changes;
  t.regex(arm!.command.script, /setsid|systemd-run/, 'the timer is armed on the host');
  t.true(
    arm!.command.script.includes('port 7741 proto tcp comment') && arm!.command.script.includes('casfleet: gate pairing closed'),
    'the timer writes the deny back',
  );
  t.true(
    open!.command.display.includes(`ufw allow from any to any port 7741 proto tcp comment '${windowUntil(900)}'`),
    open!.command.display,
  );
  t.regex(arm!.command.script, /\[ "\$\{3:-\}" = claimed \] \|\| timer_forget/, 'the timer forgets itself once it has closed the window');
  t.deepEqual(plan.state, { window: 'closed' });
});

test('a window whose timer is armed and lasts long enough is left as it is', (t) => {
  // Asked for 15m, it has 14m10s left: less than a minute short, so it stays as it is.
  const plan = planPairing(OPEN, facts(both('allow', windowUntil(850)), { timers: [timer(NOW + 850)] }));
  t.deepEqual(plan.changes, [], summaries(plan).join('\n'));
  t.regex(plan.noop ?? '', /already open until 2026-11-30T15:14:10Z \(14m10s left; an on-host timer closes it\)/);
  t.deepEqual(plan.state, { window: 'open', until: '2026-11-30T15:14:10Z', remainingSeconds: 850, closing: 'timer' });
  // The re-read right after opening: a few seconds later the same window still counts as the one asked for.
  t.deepEqual(
    planPairing(OPEN, { ...facts(both('allow', windowUntil(900)), { timers: [timer(NOW + 900)] }), clock: NOW + EXTEND_SLACK_SECONDS - 1 })
      .changes,
    [],
  );
});

test('asking for a longer window re-dates it: new timer, new close time, then the old timer goes', (t) => {
  const plan = planPairing({ action: 'open', seconds: 1800 }, facts(both('allow', windowUntil(300)), { timers: [timer(NOW + 300)] }));
  t.deepEqual(summaries(plan), [
    `+ timer ufw-window-7741-${NOW + 1800}: closes 7741/tcp at 2026-11-30T15:30:00Z (in 30m), on the host`,
    '~ allow 7741/tcp (gate pairing window until 2026-11-30T15:30:00Z) (was: allow 7741/tcp (gate pairing window until 2026-11-30T15:05:00Z))',
    `- timer ufw-window-7741-${NOW + 300} (the old close time)`,
  ]);
});

test('a window whose timer is gone gets a new timer when asked to open', (t) => {
  const plan = planPairing(OPEN, facts(both('allow', windowUntil(-30)), { timers: [timer(NOW - 30, 'lost')] }));
  t.deepEqual(
    summaries(plan).map((line) => line.slice(0, 8)),
    ['+ timer ', '~ allow ', '- timer '],
  );
  t.deepEqual(plan.state, { window: 'open', until: '2026-11-30T14:59:30Z', remainingSeconds: 0, closing: 'next-scenario-a' });
});

test('closing writes the deny back first, then disarms the timer', (t) => {
  const plan = planPairing({ action: 'close' }, facts(both('allow', windowUntil(600)), { timers: [timer(NOW + 600)] }));
  t.deepEqual(summaries(plan), [
    '~ deny 7741/tcp (gate pairing closed) (was: allow 7741/tcp (gate pairing window until 2026-11-30T15:10:00Z))',
    `- timer ufw-window-7741-${NOW + 600} (the window is closed)`,
  ]);
  t.true(plan.changes[0]!.command.display.includes("ufw deny from any to any port 7741 proto tcp comment 'casfleet: gate pairing closed'"));
});

test('closing a closed port changes nothing, except clearing timers left over', (t) => {
  const plan = planPairing({ action: 'close' }, facts(both('deny', CLOSED)));
  t.deepEqual(plan.changes, []);
  t.regex(plan.noop ?? '', /7741\/tcp is closed \(no pairing window open\)/);
  const leftover = planPairing({ action: 'close' }, facts(both('deny', CLOSED), { timers: [timer(NOW - 5, 'fired')] }));
  t.deepEqual(summaries(leftover), [`- timer ufw-window-7741-${NOW - 5} (left over, nothing to close)`]);
});

test('status reports the window and changes nothing', (t) => {
  const open = planPairing({ action: 'status' }, facts(both('allow', windowUntil(90)), { timers: [timer(NOW + 90)] }));
  t.deepEqual(open.changes, []);
  t.is(open.noop, 'pairing window open until 2026-11-30T15:01:30Z (1m30s left; an on-host timer closes it)');
  const lost = planPairing({ action: 'status' }, facts(both('allow', windowUntil(90)), { timers: [timer(NOW + 90, 'lost')] }));
  t.regex(lost.noop ?? '', /its timer is gone \(lost\): the next scenario-a run closes it/);
  t.is(planPairing({ action: 'status' }, facts(both('deny', CLOSED))).noop, 'pairing window closed');
});

test('Scenario B has nothing to open, whether told by the firewall or by gate.properties', (t) => {
  const scenarioB = {
    v4: [
      ssh('v4'),
      ufwRule('v4', 'allow', 'casfleet: gate/master via hardware VPN', { src: '10.8.0.0/24' }),
      ufwRule('v4', 'deny', 'casfleet: gate/master via hardware VPN: everyone else'),
    ],
    v6: [ssh('v6'), ufwRule('v6', 'deny', 'casfleet: gate/master via hardware VPN: everyone else')],
  };
  for (const request of [OPEN, { action: 'close' } as const]) {
    const plan = planPairing(request, facts(scenarioB));
    t.deepEqual(plan.changes, []);
    t.regex(plan.noop ?? '', /^nothing to (open|close): 7741 is reachable from the hardware VPN \(10\.8\.0\.0\/24\): scenario B$/);
    t.deepEqual(plan.state, { window: 'scenario-b' });
  }
  const skip = planPairing(OPEN, facts(both('deny', CLOSED), { gate: gateFile('batm.vpn-skip=false\nbatm.vpn-skip = true\n') }));
  t.deepEqual(skip.changes, []);
  t.regex(skip.noop ?? '', /batm\.vpn-skip=true in \/batm\/config\/gate\.properties: scenario B/);
  t.is(
    planPairing(OPEN, facts(both('deny', CLOSED), { gate: gateFile('batm.vpn-skip=true\nbatm.vpn-skip=false\n') })).changes.length,
    2,
    'Java keeps the last value',
  );
});

test('a host not under Scenario A is refused with the way out', (t) => {
  const cases: [string, ReturnType<typeof facts>, RegExp][] = [
    [
      'no managed 7741 rule',
      facts({ v4: [ssh('v4'), ufwRule('v4', 'allow', '')], v6: [] }),
      /no casfleet-managed rule for 7741\/tcp on this host: apply scenario-a first/,
    ],
    ['ufw disabled', facts(both('deny', CLOSED), { ufw: { enabled: false } }), /ufw is not enabled .*: apply scenario-a first/],
    ['no ufw', facts({ v4: [], v6: [] }, { ufw: { installed: false } }), /ufw is not installed on this host: apply scenario-a first/],
  ];
  for (const [why, given, message] of cases) {
    for (const request of [OPEN, { action: 'close' } as const, { action: 'status' } as const]) {
      t.throws(() => planPairing(request, given), { message }, `${why}, ${request.action}`);
    }
  }
});

test("scenario-a's pairing=true rule is not a window: nothing to open, and --close says how to close it", (t) => {
  const permanent = facts(both('allow', 'casfleet: gate pairing window (close after pairing)'));
  const plan = planPairing(OPEN, permanent);
  t.deepEqual(plan.changes, []);
  t.regex(plan.noop ?? '', /open with no time limit \(scenario-a with pairing=true\)/);
  t.throws(() => planPairing({ action: 'close' }, permanent), { message: /apply scenario-a without pairing=true to close it/ });
});

test('v4 only (IPv6 off): the window and its closing touch user.rules only', (t) => {
  const plan = planPairing(OPEN, facts({ v4: [ssh('v4'), ufwRule('v4', 'deny', CLOSED)], v6: [] }, { ufw: { ipv6: false } }));
  const [arm, open] = plan.changes;
  t.true(open!.command.display.includes('ufw allow from 0.0.0.0/0 to 0.0.0.0/0 port 7741 proto tcp'), open!.command.display);
  t.false(arm!.command.script.includes('user6.rules'));
});

test("only Scenario A's closed 7741 rule lets a pairing window hold its place", (t) => {
  const windowed = (rules: ReturnType<typeof scenarioARules>) =>
    rules.filter((rule) => rule.allowsWindow).map((rule) => `${rule.action} ${String(rule.port)}`);
  t.deepEqual(windowed(scenarioARules(scenarioAVarsSchema.parse({}))), ['deny 7741']);
  t.deepEqual(windowed(scenarioARules(scenarioAVarsSchema.parse({ pairing: true }))), [], 'pairing=true opens it for good');
  t.deepEqual(windowed(scenarioBRules(scenarioBVarsSchema.parse({ hardwareVpnSubnets: '10.8.0.0/24' }))), [], 'scenario B closes a window');
});
