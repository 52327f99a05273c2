// The pairing window end to end on a real lab, through the CLI as an operator would use it, checked
// from outside (the controller probes 7741) and on the host (ufw's rules, the timer's files). The
// window must close on time with casfleet no longer running: every `casfleet pair` below has exited
// before the port is probed again.
import test from 'ava';
import { VPN_ROUTER_ADDRESS } from '../../src/lab/lab-layout.ts';
import { jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labUnavailableReason, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

const unavailable = labUnavailableReason();
const serial = unavailable ? test.serial.skip : test.serial;
let lab: TestLab | undefined;

const TIMERS = '/var/lib/casfleet/timers';

test.before(async () => {
  if (unavailable) return;
  lab = await startLab({ hosts: 4, prefix: 'pair' });
  // cas-001 and cas-002 under Scenario A, cas-003 under Scenario B, cas-004 untouched.
  const a = await runCli(['apply', 'scenario-a', '-i', lab.inventoryPath, '-l', 'cas-001,cas-002,cas-003', '--json']);
  if (a.code !== 0) throw new Error(`scenario-a failed:\n${a.stdout}${a.stderr}`);
  const subnet = `${VPN_ROUTER_ADDRESS.replace(/\.1$/, '.0')}/24`;
  const b = await runCli(['apply', 'scenario-b', '-i', lab.inventoryPath, '-l', 'cas-003', '-e', `hardwareVpnSubnets=${subnet}`, '--json']);
  if (b.code !== 0) throw new Error(`scenario-b failed:\n${b.stdout}${b.stderr}`);
});
test.after.always(async () => {
  await stopLab(lab);
});

const the = (): TestLab => {
  if (!lab) throw new Error('lab not started');
  return lab;
};

interface PairingLine {
  host: string;
  action: string;
  outcome: string;
  window?: string;
  until?: string;
  remainingSeconds?: number;
  closing?: string;
  reason?: string;
  error?: { kind: string; message: string };
}

const pair = async (...args: string[]) => {
  const result = await runCli(['pair', ...args, '-i', the().inventoryPath, '--json']);
  const lines = jsonEvents(result.stdout) as unknown as PairingLine[];
  return { ...result, byHost: Object.fromEntries(lines.map((line) => [line.host, line])) };
};

const gate = async (host: string) => (await the().probe(host, [7741]))[0]?.state;
const rules = async (host: string) => (await the().exec(host, ['cat', '/etc/ufw/user.rules', '/etc/ufw/user6.rules'])).stdout;
const timerFiles = async (host: string) => (await the().exec(host, ['sh', '-c', `ls -A ${TIMERS} 2>/dev/null || :`])).stdout.trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probe until 7741 reads `state` or `withinMs` passes; resolves with the last state seen. */
const gateBecomes = async (host: string, state: string, withinMs: number) => {
  const deadline = Date.now() + withinMs;
  let seen = await gate(host);
  while (seen !== state && Date.now() < deadline) {
    await sleep(500);
    seen = await gate(host);
  }
  return seen;
};

serial('a window opens 7741 and closes it on time with casfleet no longer running', async (t) => {
  t.is(await gate('cas-001'), 'filtered');
  const opened = await pair('cas-001', '--for', '12s');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  t.like(opened.byHost['cas-001'], { action: 'open', outcome: 'opened', window: 'open', closing: 'timer' });
  // Lab hosts share this machine's clock, so the close time can be compared with it.
  const until = Date.parse(opened.byHost['cas-001']?.until ?? '');
  // casfleet has exited; from here on only the host's own timer can close the port.
  const seenOpen = await gate('cas-001');
  t.true(Date.now() < until, 'probed before the close time (a machine this slow cannot run this test)');
  t.is(seenOpen, 'open', 'open from outside right after pair');
  t.regex(await timerFiles('cas-001'), /ufw-window-7741-\d+\.due/);

  t.is(await gateBecomes('cas-001', 'filtered', 40_000), 'filtered', 'closed by the timer');
  // Probes are at most ~1.5 s apart; the timer fires no earlier than the close time.
  t.true(Date.now() >= until - 2000, `not before its time (closed by ${new Date().toISOString()}, due ${opened.byHost['cas-001']?.until})`);
  t.regex(
    await rules('cas-001'),
    /### tuple ### deny tcp 7741 0\.0\.0\.0\/0 any 0\.0\.0\.0\/0 in comment=636173666c6565743a20676174652070616972696e6720636c6f736564\n/,
  );
  // The timer forgets itself once it has run: nothing of the window remains.
  let files = await timerFiles('cas-001');
  for (let i = 0; i < 20 && files !== ''; i += 1) {
    await sleep(250);
    files = await timerFiles('cas-001');
  }
  t.is(files, '', 'timer files gone');
  const status = await pair('cas-001', '--status');
  t.like(status.byHost['cas-001'], { outcome: 'unchanged', window: 'closed' });
  const rerun = await runCli(['apply', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-001', '--json']);
  t.is(recapOf(rerun.stdout)['cas-001']?.changed, 0, 'scenario-a finds the policy as it left it');
});

serial('--status shows where a window is open and when it closes; --close closes it early', async (t) => {
  const opened = await pair('cas-001,cas-002', '--for', '10m');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  for (const host of ['cas-001', 'cas-002']) t.like(opened.byHost[host], { outcome: 'opened', window: 'open' });

  const status = await runCli(['pair', 'all', '-i', the().inventoryPath, '--status']);
  t.is(status.code, 2, 'cas-004 is not under scenario-a');
  t.regex(
    status.stdout,
    /^cas-001 {2}pairing window open until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \((9m\d{1,2}s|10m) left; an on-host timer closes it\)$/m,
  );
  t.regex(status.stdout, /^cas-003 {2}no pairing window needed: 7741 is reachable from the hardware VPN/m);
  const json = await pair('cas-002', '--status');
  const line = json.byHost['cas-002'];
  t.like(line, { action: 'status', outcome: 'unchanged', window: 'open', closing: 'timer' });
  t.true((line?.remainingSeconds ?? 0) > 500 && (line?.remainingSeconds ?? 0) <= 600, JSON.stringify(line));

  const closed = await pair('cas-001', '--close');
  t.is(closed.code, 0, closed.stdout + closed.stderr);
  t.like(closed.byHost['cas-001'], { action: 'close', outcome: 'closed', window: 'closed' });
  t.is(await gate('cas-001'), 'filtered');
  t.is(await timerFiles('cas-001'), '', 'its timer is disarmed');
  t.is(await gate('cas-002'), 'open', 'the other host keeps its window');
  const again = await pair('cas-001', '--close');
  t.like(again.byHost['cas-001'], { outcome: 'unchanged', window: 'closed', reason: '7741/tcp is closed (no pairing window open)' });

  const closeRest = await pair('cas-002', '--close');
  t.is(closeRest.code, 0);
  t.is(await gate('cas-002'), 'filtered');
});

serial('a scenario-a re-run during the window changes nothing, and the window still closes', async (t) => {
  const opened = await pair('cas-002', '--for', '40s');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  const until = Date.parse(opened.byHost['cas-002']?.until ?? '');
  const rerun = await runCli(['apply', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-002', '--json']);
  t.is(rerun.code, 0, rerun.stdout + rerun.stderr);
  t.is(recapOf(rerun.stdout)['cas-002']?.changed, 0);
  const ufw = jsonEvents(rerun.stdout).find((event) => event.type === 'step' && event.step === 'firewall (ufw)');
  t.regex(String(ufw?.reason), /open window left to its on-host timer: allow 7741\/tcp \(gate pairing window until .*Z\)/);
  // The probe after the run says what it saw: 7741 open because of the window, not filtered.
  const probe = jsonEvents(rerun.stdout).find((event) => event.type === 'step' && event.step === 'probe from outside');
  t.is(probe?.status, 'ok');
  t.regex(
    String(probe?.reason),
    /; filtered: 7777, 7743; open while a window lasts: 7741 \(allow 7741\/tcp \(gate pairing window until .*Z\), closed by its on-host timer\)$/,
  );
  const seenOpen = await gate('cas-002');
  t.true(Date.now() < until, 'probed before the close time (a machine this slow cannot run this test)');
  t.is(seenOpen, 'open', 'the re-run left the window open');
  t.is(await gateBecomes('cas-002', 'filtered', 70_000), 'filtered', 'and its timer still closed it');
  t.regex(
    await rules('cas-002'),
    /deny tcp 7741 0\.0\.0\.0\/0 any 0\.0\.0\.0\/0 in comment=636173666c6565743a20676174652070616972696e6720636c6f736564\n/,
  );
});

serial('audit during a window: 7741 is the open window with its close time, not a critical exposure', async (t) => {
  const opened = await pair('cas-002', '--for', '10m');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  const until = opened.byHost['cas-002']?.until ?? '';
  const audit = await runCli(['audit', '-i', the().inventoryPath, '-l', 'cas-002', '--json']);
  const report = JSON.parse(audit.stdout) as {
    hosts: Record<string, { exposure: Record<string, string>; findings: { severity: string; code: string; message: string }[] }>;
  };
  const host = report.hosts['cas-002'];
  t.is(audit.code, 0, audit.stdout + audit.stderr);
  t.is(host?.exposure['7741'], 'open', 'the window is open from outside');
  t.deepEqual(
    host?.findings.filter((finding) => finding.severity === 'critical'),
    [],
  );
  const window = host?.findings.find((finding) => finding.code === 'pairing-window');
  t.is(window?.severity, 'info');
  t.true(window?.message.includes(`a pairing window is open until ${until} and an on-host timer closes it`), window?.message);
  // The lab probes master's VPN-side address: the window's rule opens it too, and the audit says so.
  t.is(host?.exposure['7741@vpn'], 'open');
  t.is(host?.findings.find((finding) => finding.code === 'pairing-window-master')?.severity, 'warning');
  const closed = await pair('cas-002', '--close');
  t.is(closed.code, 0);
});

serial('a staged scenario-a rollout during a window passes its gates: the window is not counted as exposure', async (t) => {
  const opened = await pair('cas-001', '--for', '10m');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  const rollout = await runCli([
    'apply',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'cas-001,cas-002',
    '--canary',
    'cas-001',
    '--yes',
    '--json',
  ]);
  t.is(rollout.code, 0, rollout.stdout + rollout.stderr);
  const gates = jsonEvents(rollout.stdout).filter((event) => event.type === 'step' && event.kind === 'gate');
  t.deepEqual(
    gates.map((event) => [event.host, event.status]),
    [
      ['cas-001', 'ok'],
      ['cas-002', 'ok'],
    ],
  );
  t.is(await gate('cas-001'), 'open', 'the window is still open');
  const closed = await pair('cas-001', '--close');
  t.is(closed.code, 0);
});

serial('a window whose timer is gone (as after a reboot) is closed by the next scenario-a run', async (t) => {
  const opened = await pair('cas-001', '--for', '10m');
  t.is(opened.code, 0, opened.stdout + opened.stderr);
  // The timer process dies as it would with a reboot; its records stay.
  const pidFile = (await the().exec('cas-001', ['sh', '-c', `ls ${TIMERS}/ufw-window-7741-*.pid`])).stdout.trim();
  const pid = (await the().exec('cas-001', ['cat', pidFile])).stdout.trim();
  t.regex(pid, /^\d+$/);
  await the().exec('cas-001', ['kill', '-KILL', pid]);
  const status = await pair('cas-001', '--status');
  t.like(status.byHost['cas-001'], { window: 'open', closing: 'next-scenario-a' });
  t.regex(status.byHost['cas-001']?.reason ?? '', /its timer is gone \(lost\): the next scenario-a run closes it/);

  const rerun = await runCli(['apply', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-001', '--json']);
  t.is(rerun.code, 0, rerun.stdout + rerun.stderr);
  const ufw = jsonEvents(rerun.stdout).find((event) => event.type === 'step' && event.step === 'firewall (ufw)');
  t.deepEqual(ufw?.changes, [
    `~ deny 7741/tcp (gate pairing closed) (was: allow 7741/tcp (gate pairing window until ${status.byHost['cas-001']?.until}))`,
  ]);
  t.is(await gate('cas-001'), 'filtered');
  // The lost timer's records go with the next pair --close (or --for).
  const close = await pair('cas-001', '--close');
  t.like(close.byHost['cas-001'], { outcome: 'closed', window: 'closed' });
  t.is(await timerFiles('cas-001'), '');
});

serial('a Scenario B host has nothing to open, and a host without the managed rules is refused untouched', async (t) => {
  const before = { b: await rules('cas-003'), fresh: await rules('cas-004') };
  const result = await pair('cas-003,cas-004');
  t.is(result.code, 2, result.stdout + result.stderr);
  t.like(result.byHost['cas-003'], { outcome: 'unchanged', window: 'scenario-b' });
  t.regex(
    result.byHost['cas-003']?.reason ?? '',
    /^nothing to open: 7741 is reachable from the hardware VPN \(10\.8\.0\.0\/24\): scenario B$/,
  );
  t.like(result.byHost['cas-004'], { outcome: 'failed', error: { kind: 'plan' } });
  t.regex(result.byHost['cas-004']?.error?.message ?? '', /apply scenario-a first/);
  t.is(await rules('cas-003'), before.b);
  t.is(await rules('cas-004'), before.fresh);
  t.is(await timerFiles('cas-003'), '');
  t.is(await timerFiles('cas-004'), '');
  const fromVpn = await the().probe('cas-003', [7741], { sourceAddress: VPN_ROUTER_ADDRESS });
  t.is(fromVpn[0]?.state, 'open', 'terminals still reach it through the hardware VPN');
  t.is(await gate('cas-003'), 'filtered');
});
