// Usage and validation errors exit 1 and touch no host; these need no lab.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { COMMANDS, isHiddenCommand } from '../../src/cli/main.ts';
import { runCli } from '../helpers/cli.ts';

const inventory = (text: string, name = 'inventory.yml'): string => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-cli-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

// 192.0.2.0/24 is TEST-NET-1: never contacted, because every case here fails validation first.
const GOOD = inventory('all:\n  hosts:\n    cas-01:\n      ansible_host: 192.0.2.10\n');

test('--help on every command shows usage with examples', async (t) => {
  const commands = Object.keys(COMMANDS).filter((name) => !isHiddenCommand(name));
  for (const args of [['--help'], ...commands.map((command) => [command, '--help'])]) {
    const result = await runCli(args);
    t.is(result.code, 0, args.join(' '));
    t.regex(result.stdout, /Usage|usage/);
    t.regex(result.stdout, /Examples?:/);
  }
});

test('an unknown flag is a usage error', async (t) => {
  const result = await runCli(['apply', 'scenario-a', '-i', GOOD, '--frobnicate']);
  t.is(result.code, 1);
  t.regex(result.stderr, /Unknown option '--frobnicate'/);
});

test('an unknown playbook names the built-in ones', async (t) => {
  const result = await runCli(['apply', 'scenario-c', '-i', GOOD]);
  t.is(result.code, 1);
  t.regex(result.stderr, /unknown playbook 'scenario-c'; built-in playbooks: scenario-a, scenario-b/);
});

test('a limit that matches nothing is an error naming the pattern', async (t) => {
  const result = await runCli(['apply', 'scenario-a', '-i', GOOD, '-l', 'cnary']);
  t.is(result.code, 1);
  t.regex(result.stderr, /cnary/);
});

test('a regex limit that lost its regex is an error, not the whole fleet', async (t) => {
  for (const limit of ['~[', '~cas-[', '~']) {
    const result = await runCli(['inventory', '-i', GOOD, '-l', limit]);
    t.is(result.code, 1, limit);
    t.regex(result.stderr, /unbalanced '\['|empty regular expression/, limit);
    t.notRegex(result.stdout, /cas-01/, limit);
  }
});

test('a bad inventory exits 1 with file:line:col', async (t) => {
  const bad = inventory('all:\n  hosts:\n    cas-01:\n      ansible_host: 192.0.2.10\n      ansible_port: 70000\n');
  const result = await runCli(['apply', 'scenario-a', '-i', bad]);
  t.is(result.code, 1);
  t.true(result.stderr.includes(`${bad}:5:21: all.hosts.cas-01.ansible_port:`), result.stderr);
});

test('scenario-b without hardwareVpnSubnets exits 1 before connecting anywhere', async (t) => {
  const result = await runCli(['apply', 'scenario-b', '-i', GOOD]);
  t.is(result.code, 1);
  t.regex(result.stderr, /hosts\.cas-01\.hardwareVpnSubnets: required by playbook scenario-b/);
});

test('an invalid -e value is reported as coming from -e', async (t) => {
  const result = await runCli(['apply', 'scenario-b', '-i', GOOD, '-e', 'hardwareVpnSubnets=10.8.0.0/33']);
  t.is(result.code, 1);
  t.regex(result.stderr, /hardwareVpnSubnets\.0: .*\(from -e\)/);
});

test('inventory --json prints hosts with merged vars and groups', async (t) => {
  const file = inventory(
    'all:\n  vars:\n    a: 1\n  children:\n    canary:\n      hosts:\n        cas-01:\n          ansible_host: 192.0.2.10\n          a: 2\n    rest:\n      hosts:\n        cas-02: {}\n',
  );
  const result = await runCli(['inventory', '-i', file, '-l', 'canary', '--json']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), {
    hosts: { 'cas-01': { a: 2, ansible_host: '192.0.2.10' } },
    groups: { all: ['cas-01'], canary: ['cas-01'] },
  });
});

test('INI inventories work the same way', async (t) => {
  const file = inventory('[canary]\ncas-01 ansible_host=192.0.2.10 a=2\n\n[all:vars]\na=1\n', 'hosts.ini');
  const result = await runCli(['inventory', '-i', file, '--json']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout).hosts, { 'cas-01': { a: 2, ansible_host: '192.0.2.10' } });
});

test('rollback flags are checked before any host is contacted', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--rollback-timeout', '2s'], /--rollback-timeout takes a duration from 5s to 1h \(e\.g\. 120s, 2m\), got '2s'/],
    [['--rollback-timeout', 'soon'], /--rollback-timeout takes a duration/],
    [['--rollback-timeout', '2m', '--no-rollback'], /--rollback-timeout and --no-rollback do not go together/],
    [['--check', '--no-rollback'], /--check changes nothing, so there is nothing to roll back/],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli(['apply', 'scenario-a', '-i', GOOD, '--yes', ...flags]);
    t.is(result.code, 1, flags.join(' '));
    t.regex(result.stderr, message);
  }
});

test('the main help lists pair', async (t) => {
  const result = await runCli(['--help']);
  t.regex(result.stdout, /^ {2}pair <pattern> +open 7741 for pairing/m);
});

test('pair refuses bad requests before connecting anywhere', async (t) => {
  const cases: [string[], RegExp][] = [
    [['pair', '-i', GOOD], /pair needs a host pattern/],
    [['pair', 'cas-01', '-i', GOOD, '--close', '--status'], /--close and --status do not go together/],
    [['pair', 'cas-01', '-i', GOOD, '--for', '5m', '--close'], /--for does not go with --close/],
    [['pair', 'cas-01', '-i', GOOD, '--for', 'soon'], /--for takes a duration of at least 1s .*got 'soon'/],
    [['pair', 'cas-01', '-i', GOOD, '--for', '0s'], /--for takes a duration of at least 1s/],
    [['pair', 'cas-01', '-i', GOOD, '--for', '25h'], /longer than 24h: to keep 7741 open, apply scenario-a with -e pairing=true/],
    [['pair', 'cnary', '-i', GOOD], /cnary/],
    [['pair', 'cas-01', '-i', GOOD, '-l', 'cas-01'], /Unknown option '-l'/],
    [['pair', 'cas-01', '-i', GOOD, '-e', 'pairing=true'], /unknown var 'pairing' for playbook pair/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    t.is(result.code, 1, args.join(' '));
    t.regex(result.stderr, message, args.join(' '));
  }
});

test('firewall must name a backend; lab reboot needs a host pattern', async (t) => {
  const backend = await runCli(['apply', 'scenario-a', '-i', GOOD, '-e', 'firewall=nftables']);
  t.is(backend.code, 1);
  t.regex(backend.stderr, /firewall/);
  t.regex(backend.stderr, /"ufw"\|"iptables"|ufw.*iptables/);
  const reboot = await runCli(['lab', 'reboot']);
  t.is(reboot.code, 1);
  t.regex(reboot.stderr, /lab reboot needs a host pattern/);
});
