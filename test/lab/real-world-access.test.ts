// Real-world access, end to end on a lab with a bastion: hosts named only by ssh_config aliases,
// hosts reachable only through a jump host (one shared connection, both hops' keys verified), an
// admin account whose sudo asks for a password, first contact with --accept-new, and keys scan.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { hostRelativePaths } from '../../src/lab/lab-layout.ts';
import { errorOf, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labUnavailableReason, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

const unavailable = labUnavailableReason();
const serial = unavailable ? test.serial.skip : test.serial;
let lab: TestLab | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'casfleet-access-'));

test.before(async () => {
  if (!unavailable) lab = await startLab({ hosts: 4, prefix: 'acc', behindBastion: 2 });
});
test.after.always(async () => {
  await stopLab(lab);
});

const the = (): TestLab => {
  if (!lab) throw new Error('lab not started');
  return lab;
};
const file = (name: string, text: string): string => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};
const bastionLogins = (): number =>
  readFileSync(join(the().dir, hostRelativePaths(the().bastion!.id).sshdLog), 'utf8')
    .split('\n')
    .filter((line) => line.includes('Accepted publickey')).length;
const hostKeyLine = (id: string): string =>
  readFileSync(join(the().dir, hostRelativePaths(id).hostPublicKey), 'utf8')
    .split(' ')
    .slice(0, 2)
    .join(' ');
const ATTACKER = readFileSync('test/fixtures/ssh/attacker-ed25519.pub', 'utf8').split(' ').slice(0, 2).join(' ');
/** The lab's known_hosts with one host's key swapped for another. */
const knownHostsWithSwapped = (name: string, address: string): string =>
  file(
    name,
    readFileSync(the().knownHostsPath, 'utf8').replace(new RegExp(`^${address.replaceAll('.', '\\.')} .*$`, 'm'), `${address} ${ATTACKER}`),
  );

const aliasInventory = (extra = ''): string =>
  file('aliases.ini', `cas-001\ncas-003\n\n[all:vars]\ncasfleet_netns=${the().controllerNetns}\n${extra}`);

serial('an inventory of ssh_config aliases works unchanged through --ssh-config, the jump host included', async (t) => {
  const inventory = aliasInventory();
  const result = await runCli(['plan', 'scenario-a', '-i', inventory, '--ssh-config', the().sshConfigPath, '--json']);
  t.is(result.code, 0, result.stdout + result.stderr);
  const plan = JSON.parse(result.stdout) as { groups: { kind: string; hosts: string[] }[] };
  t.deepEqual(plan.groups.flatMap((group) => (group.kind === 'changes' ? group.hosts : [])).sort(), ['cas-001', 'cas-003']);
  const without = await runCli(['plan', 'scenario-a', '-i', inventory, '--ssh-config', 'none', '--json']);
  t.is(without.code, 2, 'without the config, the aliases do not resolve');
});

serial('a fleet behind the bastion: one bastion connection for the run, host keys of both hops checked', async (t) => {
  const before = bastionLogins();
  const result = await runCli(['apply', 'scenario-a', '-i', the().inventoryPath, '-l', 'behind_bastion', '--json']);
  t.is(result.code, 0, result.stdout + result.stderr);
  const recap = recapOf(result.stdout);
  t.deepEqual(Object.keys(recap).sort(), ['cas-003', 'cas-004']);
  for (const host of ['cas-003', 'cas-004']) t.true(recap[host]!.changed > 0, host);
  t.is(bastionLogins() - before, 1, 'both hosts went through one bastion connection');
  // Rollout gates log in afresh through the bastion (a new SSH session to the host over a new tunnel).
  const staged = await runCli([
    'apply',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'behind_bastion',
    '--canary',
    '1',
    '--yes',
    '--json',
  ]);
  t.is(staged.code, 0, staged.stdout + staged.stderr);
  const gates = jsonEvents(staged.stdout).filter((event) => event.type === 'step' && event.kind === 'gate');
  t.deepEqual(gates.map((event) => [event.host, event.status]).sort(), [
    ['cas-003', 'ok'],
    ['cas-004', 'ok'],
  ]);
  // The controller itself cannot reach them: only the bastion can.
  const direct = await the().ssh('cas-003', 'true', { timeoutMs: 10_000 });
  t.not(direct.code, 0);

  const wrongBastion = knownHostsWithSwapped('kh-bastion', the().bastion!.address);
  const refused = await runCli(['plan', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-003', '--known-hosts', wrongBastion, '--json']);
  t.is(refused.code, 2);
  t.regex(refused.stdout, /jump host 10\.99\.1\.5: .*REMOTE HOST IDENTIFICATION HAS CHANGED/s);
  const wrongTarget = knownHostsWithSwapped('kh-target', the().host('cas-003').address);
  const refusedTarget = await runCli([
    'plan',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'cas-003',
    '--known-hosts',
    wrongTarget,
    '--json',
  ]);
  t.is(refusedTarget.code, 2);
  t.regex(refusedTarget.stdout, /host key for cas-003 \(10\.99\.1\.3\) has CHANGED/);
  t.notRegex(refusedTarget.stdout, /jump host/);
});

const opsInventory = (extra = ''): string => aliasInventory(`ansible_user=ops\nansible_become=true\n${extra}`);
const password = (): string => readFileSync(the().becomePasswordPath, 'utf8').trim();
const ufwRules = async (host: string): Promise<string> => (await the().exec(host, ['cat', '/etc/ufw/user.rules'])).stdout;

serial('sudo with a password: missing says so, wrong is rejected with nothing changed, right works and is never shown', async (t) => {
  const inventory = opsInventory();
  const before = await ufwRules('cas-002');
  const args = ['apply', 'scenario-a', '-i', inventory, '--ssh-config', the().sshConfigPath, '-l', 'cas-001', '--json'];
  // The first test applied nothing to cas-001; its firewall is still the lab's pristine one.
  const missing = await runCli(args, { env: { CASFLEET_BECOME_PASSWORD: '' } });
  t.is(missing.code, 2);
  t.regex(missing.stdout, /sudo needs a password here: give it with -K\/--ask-become-pass/);
  t.deepEqual(
    jsonEvents(missing.stdout)
      .filter((event) => event.status === 'failed')
      .map((event) => errorOf(event)?.kind),
    ['sudo'],
  );
  const pristine = await ufwRules('cas-001');
  const wrong = await runCli(args, { env: { CASFLEET_BECOME_PASSWORD: 'not-the-password' } });
  t.is(wrong.code, 2);
  t.regex(wrong.stdout, /sudo rejected the password; nothing was run/);
  t.is(await ufwRules('cas-001'), pristine, 'nothing changed after a wrong password');

  const stateDir = mkdtempSync(join(scratch, 'state-'));
  const right = await runCli(args, { env: { CASFLEET_BECOME_PASSWORD: password(), CASFLEET_STATE_DIR: stateDir } });
  t.is(right.code, 0, right.stdout + right.stderr);
  t.true(recapOf(right.stdout)['cas-001']!.changed > 0);
  t.not(await ufwRules('cas-001'), pristine);
  t.is(await ufwRules('cas-002'), before, 'other hosts untouched');
  const runFiles = readdirSync(join(stateDir, 'runs'));
  t.is(runFiles.filter((name) => name.endsWith('.json')).length, 1, 'the apply wrote its run record');
  // The record and its journal.
  const records = runFiles.map((name) => readFileSync(join(stateDir, 'runs', name), 'utf8'));
  for (const text of [right.stdout, right.stderr, wrong.stdout, wrong.stderr, ...records]) t.false(text.includes(password()));

  // ansible_become_password in the inventory works too, and `casfleet inventory` masks it.
  const withVar = opsInventory(`ansible_become_password=${password()}\n`);
  const fromInventory = await runCli(['plan', 'scenario-a', '-i', withVar, '--ssh-config', the().sshConfigPath, '-l', 'cas-003', '--json']);
  t.is(fromInventory.code, 0, fromInventory.stdout + fromInventory.stderr);
  const shown = await runCli(['inventory', '-i', withVar, '--json']);
  t.false(shown.stdout.includes(password()));
  t.regex(shown.stdout, /"ansible_become_password": "\*{8}"/);
});

serial(
  "sudo that will not run the command for another reason (ops not in sudoers) fails the host untouched, in sudo's words",
  async (t) => {
    const host = 'cas-003';
    const before = await ufwRules(host);
    await the().sh(host, 'mv /etc/sudoers.d/casfleet-lab-ops /root/casfleet-lab-ops.off');
    try {
      const args = ['apply', 'scenario-a', '-i', opsInventory(), '--ssh-config', the().sshConfigPath, '-l', host, '--json'];
      const refused = await runCli(args, { env: { CASFLEET_BECOME_PASSWORD: password() } });
      t.is(refused.code, 2, refused.stdout + refused.stderr);
      t.regex(refused.stdout, /become on cas-003: sudo did not run the command \(ops is not in the sudoers file[^)]*\); nothing was run/);
      t.deepEqual(
        jsonEvents(refused.stdout)
          .filter((event) => event.status === 'failed')
          .map((event) => errorOf(event)?.kind),
        ['sudo'],
      );
      t.is(await ufwRules(host), before);
    } finally {
      await the().sh(host, 'mv /root/casfleet-lab-ops.off /etc/sudoers.d/casfleet-lab-ops');
    }
  },
);
serial('--accept-new records unknown host keys (hashed in a hashed file), then a changed key is still refused', async (t) => {
  const empty = file('kh-empty', '');
  const first = await runCli([
    'plan',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '--known-hosts',
    empty,
    '--ssh-config',
    'none',
    '--accept-new',
    '--json',
  ]);
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(first.stderr, /permanently added cas-001 \(10\.99\.1\.1\) ssh-ed25519 SHA256:/);
  const recorded = readFileSync(empty, 'utf8');
  for (const host of the().hosts) t.true(recorded.includes(`${host.address} ${hostKeyLine(host.id)}`), host.name);
  t.true(recorded.includes(`${the().bastion!.address} ${hostKeyLine(the().bastion!.id)}`), 'the jump host too');

  const again = await runCli(['plan', 'scenario-a', '-i', the().inventoryPath, '--known-hosts', empty, '--ssh-config', 'none', '--json']);
  t.is(again.code, 0, 'plain strict checking accepts the recorded keys');

  const swapped = readFileSync(empty, 'utf8').replace(/^10\.99\.1\.1 .*$/m, `10.99.1.1 ${ATTACKER}`);
  writeFileSync(empty, swapped);
  const changed = await runCli([
    'plan',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'cas-001',
    '--known-hosts',
    empty,
    '--ssh-config',
    'none',
    '--accept-new',
    '--json',
  ]);
  t.is(changed.code, 2);
  t.regex(changed.stdout, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  t.is(readFileSync(empty, 'utf8'), swapped, 'nothing was written for a changed key');

  const hashed = join(scratch, 'kh-hashed');
  copyFileSync(the().knownHostsHashedPath, hashed);
  writeFileSync(hashed, readFileSync(hashed, 'utf8').split('\n').slice(1).join('\n'));
  const intoHashed = await runCli([
    'plan',
    'scenario-a',
    '-i',
    the().inventoryPath,
    '-l',
    'cas-001',
    '--known-hosts',
    hashed,
    '--ssh-config',
    'none',
    '--accept-new',
    '--json',
  ]);
  t.is(intoHashed.code, 0, intoHashed.stdout + intoHashed.stderr);
  const lines = readFileSync(hashed, 'utf8').trim().split('\n');
  t.true(
    lines.every((line) => line.startsWith('|1|')),
    'the added line is hashed like the rest',
  );
});

serial('keys scan prints the fingerprints ssh-keygen -lf gives for the hosts own keys, and --write adds them', async (t) => {
  const empty = file('kh-scan', '');
  const scan = await runCli(['keys', 'scan', '-i', the().inventoryPath, '--known-hosts', empty, '--ssh-config', 'none', '--write']);
  t.is(scan.code, 0, scan.stdout + scan.stderr);
  for (const host of [...the().hosts, the().bastion!]) {
    const [bits, fingerprint] = execFileSync('ssh-keygen', ['-lf', join(the().dir, hostRelativePaths(host.id).hostPublicKey)], {
      encoding: 'utf8',
    }).split(' ');
    t.true(scan.stdout.includes(`${bits} ${fingerprint} ${host.address} (ED25519)`), `${host.name}: ${fingerprint}`);
  }
  t.regex(scan.stdout, /^# cas-003 \(10\.99\.1\.3\) via 10\.99\.1\.5: ED25519 added$/m);
  const rescan = await runCli(['keys', 'scan', '-i', the().inventoryPath, '--known-hosts', empty, '--ssh-config', 'none', '--json']);
  const view = JSON.parse(rescan.stdout) as { hosts: Record<string, { keys: { status: string }[] }> };
  t.deepEqual(
    Object.values(view.hosts).flatMap((host) => host.keys.map((key) => key.status)),
    Array(5).fill('known'),
  );
});
