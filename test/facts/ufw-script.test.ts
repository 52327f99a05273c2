// The ufw fact's script run for real (dash and bash) on ufw files built here, each line of them a
// case the grep must take or leave as the parser reads it: a setting or rule line by its start, a
// marker only whole. Files as ufw leaves them after hand edits: no newline at the end, CRLF, a NUL.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildGatherScript, parseGatherOutput } from '../../src/facts/gather-script.ts';
import { ufwState } from '../../src/facts/ufw.ts';

const SHELLS = ['/bin/sh', 'bash'].filter((shell) => spawnSync(shell, ['-c', 'true']).status === 0);

const root = mkdtempSync(join(tmpdir(), 'casfleet-ufw-fact-'));

const RULES4 = [
  '*filter',
  ':ufw-user-input - [0:0]',
  ':ufw-user-limit - [0:0]',
  ':ufw-user-limit - [0:0] trailing words',
  '### RULES ###',
  '',
  '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in',
  '-A ufw-user-input -p tcp --dport 22 -j ACCEPT',
  ' -A ufw-user-input -p tcp --dport 23 -j ACCEPT',
  '#-A ufw-user-input -p tcp --dport 24 -j ACCEPT',
  '### tuple ###x allow tcp 7742 0.0.0.0/0 any 0.0.0.0/0 in',
  '-A ufw-user-input -p tcp --dport 7742 -j ACCEPT',
  '',
  '### END RULES ### and more',
  '### END RULES ###',
  'COMMIT',
].join('\n');

const RULES6 = [
  '*filter',
  ':ufw6-user-limit - [0:0]',
  '### tuple ### allow tcp 22 ::/0 any ::/0 in',
  '-A ufw6-user-input -p tcp --dport 22 -j ACCEPT',
  'COMMIT\n',
].join('\n');

const DEFAULTS =
  'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n# DEFAULT_INPUT_POLICY="ACCEPT"\nMANAGE_BUILTINS=no\0\nIPT_SYSCTL=/etc/ufw/sysctl.conf\n';

/** A directory holding `files` (paths below /etc), for a script whose /etc/ is moved there. */
const etcWith = (name: string, files: Readonly<Record<string, string>>): string => {
  const base = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(base, 'etc', path, '..'), { recursive: true });
    writeFileSync(join(base, 'etc', path), content);
  }
  return base;
};

let edited: string;
let withoutRules6: string;

test.before(() => {
  edited = etcWith('edited', {
    'ufw/ufw.conf': '# comment\r\nENABLED=yes\nXLOGLEVEL=full\nLOGLEVEL=low',
    'default/ufw': DEFAULTS,
    'ufw/user.rules': RULES4,
    'ufw/user6.rules': RULES6,
  });
  withoutRules6 = etcWith('without-rules6', { 'ufw/ufw.conf': 'ENABLED=yes\n', 'default/ufw': DEFAULTS, 'ufw/user.rules': 'COMMIT\n' });
});

test.after.always(() => rmSync(root, { recursive: true, force: true }));

/**
 * The fact's script (or `script`, made from it) with its files under `base`, run with `path` as the
 * PATH, and its answer with their paths as on a host.
 */
const runFact = (shell: string, base: string, path = process.env.PATH ?? '/usr/bin:/bin', script = buildGatherScript([ufwState])) => {
  const result = spawnSync(shell, ['-c', script.replaceAll('/etc/', `${base}/etc/`)], {
    encoding: 'utf8',
    env: { PATH: path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ...result, stdout: result.stdout.replaceAll(`${base}/etc/`, '/etc/') };
};

for (const shell of SHELLS) {
  test(`${shell}: the lines of ufw's files the parser reads, and no others`, (t) => {
    const result = runFact(shell, edited);
    t.is(result.status, 0, result.stderr);
    t.is(result.stderr, '');
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('/etc/'));
    t.deepEqual(lines, [
      '/etc/ufw/ufw.conf:ENABLED=yes',
      '/etc/ufw/ufw.conf:LOGLEVEL=low',
      '/etc/default/ufw:IPV6=yes',
      '/etc/default/ufw:DEFAULT_INPUT_POLICY="DROP"',
      '/etc/default/ufw:DEFAULT_OUTPUT_POLICY="ACCEPT"',
      '/etc/default/ufw:DEFAULT_FORWARD_POLICY="DROP"',
      '/etc/default/ufw:MANAGE_BUILTINS=no\0',
      '/etc/ufw/user.rules::ufw-user-limit - [0:0]',
      '/etc/ufw/user.rules:### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in',
      '/etc/ufw/user.rules:-A ufw-user-input -p tcp --dport 22 -j ACCEPT',
      '/etc/ufw/user.rules:### tuple ###x allow tcp 7742 0.0.0.0/0 any 0.0.0.0/0 in',
      '/etc/ufw/user.rules:-A ufw-user-input -p tcp --dport 7742 -j ACCEPT',
      '/etc/ufw/user.rules:### END RULES ###',
      '/etc/ufw/user6.rules::ufw6-user-limit - [0:0]',
      '/etc/ufw/user6.rules:### tuple ### allow tcp 22 ::/0 any ::/0 in',
      '/etc/ufw/user6.rules:-A ufw6-user-input -p tcp --dport 22 -j ACCEPT',
    ]);
  });

  test(`${shell}: a rules file that is not there is not in the answer, and the parser says so`, (t) => {
    const result = runFact(shell, withoutRules6);
    t.is(result.status, 0, result.stderr);
    t.true(result.stdout.includes('file /etc/ufw/user.rules\n'));
    t.false(result.stdout.includes('user6.rules'));
    const outcome = parseGatherOutput(result.stdout, [ufwState], result.stderr).get(ufwState.id);
    t.regex(outcome && !outcome.ok ? outcome.error.message : '', /IPV6=yes but \/etc\/ufw\/user6.rules is missing or unreadable/);
  });
}

// A ufw whose command is broken (here a file that is not executable) still counts as installed:
// casfleet writes and loads the rules without it. The sbin directories the script adds are left
// out, so this machine's own ufw does not answer.
for (const shell of SHELLS) {
  test(`${shell}: ufw is installed when a file of that name is on the PATH, executable or not`, (t) => {
    const bin = join(root, `bin-${shell.replaceAll('/', '')}`);
    mkdirSync(bin);
    writeFileSync(join(bin, 'ufw'), '', { mode: 0o644 });
    const script = buildGatherScript([ufwState]).replace('PATH="$PATH:/usr/sbin:/sbin"', 'PATH="$PATH"');
    const installed = (path: string) => /\ninstalled (\w+)\n/.exec(runFact(shell, edited, path, script).stdout)?.[1];
    t.is(installed(`/nowhere::${bin}:/usr/bin:/bin`), 'yes');
    t.is(installed('/usr/bin:/bin'), 'no');
  });
}
