// The firewall apply path on real ufw in the lab: ufw's rule files are written as ufw writes them
// (ufw-file-write.ts) and the user chains loaded once per family at the end of the batch. After every apply `ufw status
// numbered` shows exactly the managed rules and the kernel runs exactly what the files say; a rule a
// person adds by hand with `ufw allow` survives later casfleet runs in both files and kernel; and a
// run cut off right after the firewall change leaves ufw's files and the kernel as they were.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { type UfwState, ufwState } from '../../src/facts/ufw.ts';
import { hostTimers } from '../../src/host-timer/host-timers.ts';
import { analyseKernel } from '../../src/steps/kernel-truth.ts';
import { isManaged } from '../../src/steps/ufw-model.ts';
import { CLI, jsonEvents, runCli } from '../helpers/cli.ts';
import { transactionStateOn } from '../helpers/host-state.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the } = labForFile({ hosts: 2, prefix: 'apply' });
// Run records and the pause marker of this file's runs.
const stateDir = mkdtempSync(join(tmpdir(), 'casfleet-apply-state-'));
test.after.always(() => rmSync(stateDir, { recursive: true, force: true }));
const env = (extra: NodeJS.ProcessEnv = {}) => ({ CASFLEET_STATE_DIR: stateDir, ...extra });
const SCENARIO_B = ['scenario-b', '-e', 'hardwareVpnSubnets=10.8.0.0/24'];

const onHost = (host: string, script: string): Promise<string> => the().sh(host, script);
const apply = async (host: string, args: readonly string[]) => {
  const result = await runCli(['apply', ...args, '-l', host, '-i', the().inventoryPath, '--json'], { env: env() });
  if (result.code !== 0) throw new Error(`casfleet apply ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
  return jsonEvents(result.stdout);
};
const ufwOn = async (host: string): Promise<UfwState> => ufwState.parse(await onHost(host, ufwState.script));

/** `ufw status numbered` rows as [action, comment] (comment '' when none), in ufw's numbering. */
const statusRows = async (host: string): Promise<[string, string][]> =>
  (await onHost(host, 'ufw status numbered'))
    .split('\n')
    .filter((line) => /^\[\s*\d+\]/.test(line))
    .map((line) => {
      const [rule, comment = ''] = line.split(' # ');
      return [/\b(ALLOW|DENY|REJECT|LIMIT)\b/.exec(rule ?? '')?.[1]?.toLowerCase() ?? '?', comment.trim()];
    });

/** The rows `ufw status numbered` must show for these files: v4 rules, then v6, each with its action and comment. */
const expectedRows = (ufw: UfwState): [string, string][] => [...ufw.rules.v4, ...ufw.rules.v6].map((rule) => [rule.action, rule.comment]);

/** What the kernel runs differs from ufw's files (empty when consistent). */
const kernelDrift = async (host: string): Promise<readonly string[]> => {
  const [ufw, kernel] = await Promise.all([ufwOn(host), onHost(host, kernelFirewall.script).then((out) => kernelFirewall.parse(out))]);
  return analyseKernel({ ufw, kernel, protectedPorts: [] }).drift;
};

serial('after every apply ufw status numbered shows exactly the managed set and the kernel runs ufw files', async (t) => {
  const host = 'cas-001';
  for (const args of [['scenario-a'], SCENARIO_B, ['scenario-a']]) {
    const events = await apply(host, args);
    const firewall = events.find((event) => event.type === 'step' && event.step === 'firewall (ufw)');
    t.is(firewall?.status, 'changed', JSON.stringify(firewall));
    const ufw = await ufwOn(host);
    t.true([...ufw.rules.v4, ...ufw.rules.v6].every(isManaged), 'only managed rules in the files');
    t.true(ufw.rules.v4.length >= 6 && ufw.rules.v6.length >= 5);
    t.deepEqual(await statusRows(host), expectedRows(ufw), `ufw status after ${args[0]}`);
    t.deepEqual(await kernelDrift(host), [], `kernel after ${args[0]}`);
  }
});

serial('a rule added by hand with ufw allow 8080/tcp survives the next casfleet runs, in the files and the kernel', async (t) => {
  const host = 'cas-001';
  t.regex(await onHost(host, 'ufw allow 8080/tcp'), /Rule added/);
  for (const args of [SCENARIO_B, SCENARIO_B, ['scenario-a']]) {
    const events = await apply(host, args);
    const firewall = events.find((event) => event.type === 'step' && event.step === 'firewall (ufw)');
    t.true(
      ((firewall?.warnings ?? []) as string[]).some((warning) => warning.startsWith('unmanaged rule "allow 8080/tcp"')),
      JSON.stringify(firewall),
    );
    const ufw = await ufwOn(host);
    t.deepEqual(
      [...ufw.rules.v4, ...ufw.rules.v6].filter((rule) => !isManaged(rule)).map((rule) => `${rule.action} ${rule.dport}/${rule.proto}`),
      ['allow 8080/tcp', 'allow 8080/tcp'],
    );
    t.deepEqual(await statusRows(host), expectedRows(ufw));
    t.deepEqual(await kernelDrift(host), []);
    t.regex(
      await onHost(host, 'iptables -S ufw-user-input; ip6tables -S ufw6-user-input'),
      /--dport 8080 -j ACCEPT\n[\s\S]*--dport 8080 -j ACCEPT/,
    );
  }
  t.regex(await onHost(host, 'ufw delete allow 8080/tcp'), /Rule deleted/);
});

/** What a transaction covers of the firewall: ufw's files and the filter tables (counters left out). */
const firewallState = (host: string) =>
  transactionStateOn(onHost, host, ['/etc/ufw/user.rules', '/etc/ufw/user6.rules', '/etc/ufw/ufw.conf', '/etc/default/ufw']);

// Scenario A from B changes the firewall first, then the VPN file, gate.properties and gate: the run
// is cut off between the firewall and the rest.
serial(
  'a user.rules line edited by hand (the 7777 deny made ACCEPT) is rewritten from the rules ufw lists, before and after a boot loaded it',
  async (t) => {
    const host = 'cas-002';
    await apply(host, ['scenario-a']);
    const tamper = String.raw`sed -i 's/^-A ufw-user-input -p tcp --dport 7777 -j DROP$/-A ufw-user-input -p tcp --dport 7777 -j ACCEPT/' /etc/ufw/user.rules && grep -c -- '--dport 7777 -j ACCEPT' /etc/ufw/user.rules`;
    const running7777 = async () =>
      (await onHost(host, 'iptables-save -t filter')).split('\n').filter((line) => line.includes('--dport 7777'));
    // ufw-init loads the files as they are at boot (iptables-restore, no python); `ufw reload` would
    // rewrite them from the tuples first.
    for (const booted of [false, true]) {
      t.is((await onHost(host, tamper)).trim(), '1', 'the line is edited');
      if (booted) await onHost(host, 'iptables-restore -n < /etc/ufw/user.rules');
      t.deepEqual(await running7777(), [`-A ufw-user-input -p tcp -m tcp --dport 7777 -j ${booted ? 'ACCEPT' : 'DROP'}`]);
      const audit = await runCli(['audit', '-l', host, '-i', the().inventoryPath, '--json'], { env: env() });
      t.regex(audit.stdout, /ufw-rule-file-edited/, `audit (booted ${booted})`);
      const status = await statusRows(host);
      const events = await apply(host, ['scenario-a']);
      const firewall = events.find((event) => event.type === 'step' && event.step === 'firewall (ufw)');
      t.is(firewall?.status, 'changed', JSON.stringify(firewall));
      t.regex(JSON.stringify(firewall?.changes), /rewrite \/etc\/ufw\/user\.rules from the rules ufw lists/);
      t.is((await onHost(host, "grep -c -- '--dport 7777 -j ACCEPT' /etc/ufw/user.rules || :")).trim(), '0', 'the line is the deny again');
      t.deepEqual(await running7777(), ['-A ufw-user-input -p tcp -m tcp --dport 7777 -j DROP'], `kernel (booted ${booted})`);
      t.deepEqual(await kernelDrift(host), []);
      t.deepEqual(await statusRows(host), status, 'ufw status lists the same rules');
    }
    const again = await apply(host, ['scenario-a']);
    t.is(again.find((event) => event.type === 'step' && event.step === 'firewall (ufw)')?.status, 'ok');
  },
);

serial('a run cut off right after the firewall change (connection dropped): the host restores files and kernel together', async (t) => {
  const host = 'cas-002';
  await apply(host, SCENARIO_B);
  const before = await firewallState(host);
  const marker = join(stateDir, `pause-${Date.now()}`);
  const child = spawn(
    process.execPath,
    [CLI, 'apply', 'scenario-a', '-l', host, '--rollback-timeout', '6s', '-i', the().inventoryPath, '--json'],
    {
      env: { ...process.env, NO_COLOR: '1', ...env({ CASFLEET_TEST_PAUSE: `after-change:${marker}` }) },
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => child.on('close', resolve));
  let pid: number | undefined;
  for (let tries = 0; tries < 1200 && pid === undefined; tries++) {
    const line = existsSync(marker)
      ? readFileSync(marker, 'utf8')
          .split('\n')
          .find((entry) => entry.startsWith(`${host} `))
      : undefined;
    if (line) pid = Number(line.split(' ')[1]);
    else await sleep(50);
  }
  if (pid === undefined) throw new Error('casfleet never paused');
  const changed = await firewallState(host);
  t.notDeepEqual(changed.filter4, before.filter4, 'the new rule set is loaded');
  t.deepEqual(await kernelDrift(host), [], 'files and kernel agree right after the batch');
  // The connection goes with the process: the rest of the run never happens.
  process.kill(pid, 'SIGKILL');
  await exited;
  rmSync(marker, { force: true });

  let fired = false;
  for (let tries = 0; tries < 120 && !fired; tries++) {
    fired = hostTimers.parse(await onHost(host, hostTimers.script)).some((timer) => timer.state === 'fired' && timer.result !== undefined);
    if (!fired) await sleep(250);
  }
  t.true(fired, 'the dead-man fired');
  t.deepEqual(await firewallState(host), before, "ufw's files and the filter tables as before the run");
  t.deepEqual(await kernelDrift(host), []);
  t.deepEqual(await statusRows(host), expectedRows(await ufwOn(host)));
});
