// Idempotence proven on REAL ufw: inside a throwaway netns + mount namespace (ufw-scratch.ts), apply a
// plan's commands, re-read the fact, and require the re-plan to be empty; then change the desired set
// and require convergence and the right order again. Also runs the plain-`ufw` fallback for real.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { networkInterfaces } from '../../src/facts/network.ts';
import { parseSshConnection } from '../../src/facts/ssh-connection.ts';
import { type UfwState, ufwState } from '../../src/facts/ufw.ts';
import { formatRule, isManaged } from '../../src/steps/ufw-model.ts';
import { type UfwRuleSetArgs, ufwRuleSet } from '../../src/steps/ufw-rules.ts';
import { createUfwScratch, scratchUnavailable, type UfwScratch } from './ufw-scratch.ts';

const unavailable = scratchUnavailable();
const realTest = unavailable ? test.skip : test.serial;
const suffix = unavailable ? ` (skipped: ${unavailable})` : '';

const SSH = { action: 'allow', port: 22, proto: 'tcp', comment: 'ssh' } as const;
const SCENARIO_A: UfwRuleSetArgs = {
  defaultIncoming: 'deny',
  enabled: true,
  rules: [
    SSH,
    { action: 'allow', port: 7742, proto: 'tcp', interface: 'default-route', comment: 'terminal VPN' },
    { action: 'allow', port: [13000, 13010], proto: 'tcp', interface: 'default-route', comment: 'terminal VPN instances' },
    { action: 'allow', port: [12000, 12050], proto: 'tcp', interface: 'default-route', comment: 'admin VPN' },
    { action: 'deny', port: 7741, proto: 'tcp', comment: 'gate closed' },
    { action: 'deny', port: 7777, proto: 'tcp', comment: 'admin GUI closed' },
  ],
};
// Scenario-B-like: the terminal VPN ports close, 7741 opens only from the hardware-VPN subnet.
const SCENARIO_B: UfwRuleSetArgs = {
  ...SCENARIO_A,
  rules: [
    SSH,
    { action: 'allow', port: [12000, 12050], proto: 'tcp', interface: 'default-route', comment: 'admin VPN' },
    { action: 'allow', port: 7741, proto: 'tcp', from: '10.8.0.0/24', comment: 'gate+master via hardware VPN' },
    { action: 'deny', port: 7741, proto: 'tcp', comment: 'gate closed' },
    { action: 'deny', port: 7777, proto: 'tcp', comment: 'admin GUI closed' },
  ],
};

let scratch: UfwScratch | undefined;
let fakeDir: string | undefined;

test.before(() => {
  if (unavailable) return;
  scratch = createUfwScratch();
  // A `sed` that yields no interpreter makes the batch's python start fail (127): the fallback path.
  // A `cksum` that matches no verified ufw file makes the rule-file writer fall back to that batch.
  fakeDir = mkdtempSync(join(tmpdir(), 'casfleet-nopy-'));
  writeFileSync(join(fakeDir, 'sed'), '#!/bin/sh\necho /nonexistent/python3\n', { mode: 0o755 });
  writeFileSync(join(fakeDir, 'cksum'), '#!/bin/sh\necho 0 0\n', { mode: 0o755 });
});

test.after.always(() => {
  scratch?.destroy();
  if (fakeDir) rmSync(fakeDir, { recursive: true, force: true });
});

// The scratch namespace has no SSH login: the session is the one a controller on eth0's network would
// have. No on-host timers in a scratch firewall: nothing holds a window open.
const SESSION = parseSshConnection(
  'ssh-connection 10.99.0.1 40000 10.99.1.1 22\nroute-lookup\n10.99.0.1 dev eth0 src 10.99.1.1 uid 0 \n    cache \nend\n',
);
const gather = (s: UfwScratch) => ({
  ufw: s.gather(ufwState),
  network: s.gather(networkInterfaces),
  kernel: s.gather(kernelFirewall),
  session: SESSION,
  timers: [],
});

/** Plans, applies every command, re-gathers and returns the second plan with the outputs. */
const applyAndReplan = (s: UfwScratch, args: UfwRuleSetArgs, prefix = '') => {
  const step = ufwRuleSet(args);
  const first = step.plan(gather(s));
  const outputs = first.changes
    .filter((change) => change.command.script !== '')
    .map((change) => s.run(prefix + change.command.script, change.stdin));
  const facts = gather(s);
  return { first, outputs, second: step.plan(facts), facts };
};

const managed = (state: UfwState, family: 'v4' | 'v6'): string[] => state.rules[family].filter(isManaged).map(formatRule);

realTest(`a Scenario-A rule set applied with the python batch converges on real ufw${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const { first, outputs, second, facts } = applyAndReplan(s, SCENARIO_A);
  t.true(first.changes.length >= 8, first.changes.map((c) => c.summary).join('\n'));
  t.is(outputs.length, 1, 'all ufw work runs in one command');
  t.is(outputs[0]?.code, 0, outputs[0]?.stderr);
  t.regex(outputs[0]?.stdout ?? '', /^> ufw allow from any to any port 22/m, 'ran through the python batch');
  t.notRegex(outputs[0]?.stderr ?? '', /running ufw commands one by one/);
  t.deepEqual(
    second.changes.map((c) => c.summary),
    [],
    'the re-plan must be empty',
  );
  t.regex(second.noop ?? '', /all 6 managed rules in place and in order \(6 v4 \+ 6 v6\)/);
  t.true(facts.ufw.enabled);
  t.is(facts.ufw.defaultIncoming, 'deny');
  t.deepEqual(managed(facts.ufw, 'v4'), [
    'allow 22/tcp (ssh)',
    'allow 7742/tcp in on eth0 (terminal VPN)',
    'allow 13000:13010/tcp in on eth0 (terminal VPN instances)',
    'allow 12000:12050/tcp in on eth0 (admin VPN)',
    'deny 7741/tcp (gate closed)',
    'deny 7777/tcp (admin GUI closed)',
  ]);
  t.deepEqual(managed(facts.ufw, 'v6'), managed(facts.ufw, 'v4'));
});

realTest(`switching the desired set (close 7742, allow 7741 from a subnet) converges with the allow before the deny${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  // The writer names its new files after the script's PID: a prefix in the same shell leaves a
  // symlink under one of those names first, as a killed run could leave a file.
  const planted = 'printf \'keep\\n\' >/etc/ufw/planted && ln -s /etc/ufw/planted "/etc/ufw/.user.rules.casfleet.$$"\n';
  const mode = s.run('stat -c %a /etc/ufw/user.rules').stdout;
  const { first, outputs, second, facts } = applyAndReplan(s, SCENARIO_B, planted);
  t.is(
    s.run('cat /etc/ufw/planted; rm -f /etc/ufw/planted; ls -A /etc/ufw | grep -c casfleet; stat -c %a /etc/ufw/user.rules').stdout,
    `keep\n0\n${mode}`,
    'the symlink was removed, not written through; nothing left over; the file keeps its mode',
  );
  t.deepEqual(
    first.changes.map((c) => c.summary),
    [
      '+ allow 7741/tcp from 10.8.0.0/24 (gate+master via hardware VPN)',
      '- allow 7742/tcp in on eth0 (terminal VPN)',
      '- allow 13000:13010/tcp in on eth0 (terminal VPN instances)',
    ],
  );
  t.is(outputs[0]?.code, 0, outputs[0]?.stderr);
  // Without python: both rule files written as ufw writes them, the running chains loaded once per family.
  t.deepEqual(
    outputs[0]?.stdout.split('\n').filter((line) => line.includes('-restore -n') || line.startsWith('wrote:')),
    [
      'wrote: /etc/ufw/user.rules (5 rules, as ufw writes it)',
      'wrote: /etc/ufw/user6.rules (4 rules, as ufw writes it)',
      '> iptables-restore -n < /etc/ufw/user.rules',
      '> ip6tables-restore -n < /etc/ufw/user6.rules',
    ],
  );
  t.notRegex(outputs[0]?.stdout ?? '', /^> ufw /m, 'no python');
  t.deepEqual(
    second.changes.map((c) => c.summary),
    [],
  );
  t.deepEqual(managed(facts.ufw, 'v4'), [
    'allow 22/tcp (ssh)',
    'allow 12000:12050/tcp in on eth0 (admin VPN)',
    'allow 7741/tcp from 10.8.0.0/24 (gate+master via hardware VPN)',
    'deny 7741/tcp (gate closed)',
    'deny 7777/tcp (admin GUI closed)',
  ]);
  t.deepEqual(managed(facts.ufw, 'v6'), [
    'allow 22/tcp (ssh)',
    'allow 12000:12050/tcp in on eth0 (admin VPN)',
    'deny 7741/tcp (gate closed)',
    'deny 7777/tcp (admin GUI closed)',
  ]);
});

realTest(`the plain-ufw fallback (python import impossible) reaches the same state${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const { outputs, second, facts } = applyAndReplan(s, SCENARIO_A, `PATH=${fakeDir}:$PATH; export PATH\n`);
  t.is(outputs[0]?.code, 0, outputs[0]?.stderr);
  t.regex(outputs[0]?.stderr ?? '', /running ufw commands one by one/);
  t.deepEqual(
    second.changes.map((c) => c.summary),
    [],
  );
  t.is(managed(facts.ufw, 'v4').length, 6);
});

realTest(`enabled in ufw.conf with its chains gone: rule changes and the enable in one batch load everything${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  t.deepEqual(applyAndReplan(s, SCENARIO_B).second.changes, []);
  t.is(s.run('/lib/ufw/ufw-init force-stop >/dev/null && grep ^ENABLED= /etc/ufw/ufw.conf').stdout, 'ENABLED=yes\n');
  const { first, outputs, second, facts } = applyAndReplan(s, SCENARIO_A);
  t.true(
    first.changes.some((c) => c.summary === '+ enable ufw (enabled in ufw.conf but its rules are not loaded)'),
    first.changes.map((c) => c.summary).join('\n'),
  );
  t.true(first.changes.some((c) => c.summary.startsWith('- allow 7741/tcp from 10.8.0.0/24')));
  t.is(outputs[0]?.code, 0, outputs[0]?.stderr);
  // A load before the enable would create ufw-user-input, and ufw-init would then skip its start.
  t.false(outputs[0]?.stdout.includes('-restore -n'), outputs[0]?.stdout);
  t.deepEqual(
    second.changes.map((c) => c.summary),
    [],
    'loaded and in order: nothing left to do',
  );
  t.is(managed(facts.ufw, 'v4').length, 6);
  t.regex(s.run('iptables -S INPUT').stdout, /-A INPUT -j ufw-before-input/);
});
