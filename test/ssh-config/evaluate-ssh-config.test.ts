// ssh_config evaluated as OpenSSH does: each case is checked against `ssh -G` (OpenSSH's own
// evaluation, run here on the fixture) for the keywords casfleet honours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { ConfigError } from '../../src/errors.ts';
import { evaluateSshConfig, expandHostName } from '../../src/ssh-config/evaluate-ssh-config.ts';
import { readSshConfig } from '../../src/ssh-config/ssh-config-file.ts';

const FIXTURE = resolve('test/fixtures/ssh-config');
const dir = mkdtempSync(join(tmpdir(), 'casfleet-ssh-config-'));
for (const name of readdirSync(FIXTURE)) writeFileSync(join(dir, name), readFileSync(join(FIXTURE, name), 'utf8').replaceAll('@DIR@', dir));
const config = join(dir, 'config');
const files = readSshConfig(config);

const HONOURED = [
  'hostname',
  'user',
  'port',
  'identityfile',
  'proxyjump',
  'stricthostkeychecking',
  'connecttimeout',
  'serveraliveinterval',
  'serveralivecountmax',
  'identitiesonly',
  'identityagent',
  'hashknownhosts',
];
// What ssh -G prints when a keyword is not set at all.
const OPENSSH_DEFAULTS: Record<string, string | undefined> = {
  connecttimeout: 'none',
  identitiesonly: 'no',
  hashknownhosts: 'no',
  serveraliveinterval: '0',
  serveralivecountmax: '3',
  stricthostkeychecking: 'ask',
};

const openssh = (host: string): Map<string, string[]> => {
  const out = execFileSync('ssh', ['-G', '-F', config, host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const seen = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const [keyword = '', ...rest] = line.split(' ');
    if (HONOURED.includes(keyword)) seen.set(keyword, [...(seen.get(keyword) ?? []), rest.join(' ')]);
  }
  return seen;
};

const ours = (host: string): Map<string, string[]> => {
  const { values, identityFiles } = evaluateSshConfig(files, { host, localUser: userInfo().username });
  const seen = new Map<string, string[]>();
  seen.set('hostname', [expandHostName(values.get('hostname')?.args[0] ?? host, host)]);
  seen.set('user', [values.get('user')?.args[0] ?? userInfo().username]);
  seen.set('port', [values.get('port')?.args[0] ?? '22']);
  if (identityFiles.length > 0)
    seen.set(
      'identityfile',
      identityFiles.map((file) => file.args[0]!),
    );
  for (const keyword of HONOURED.filter((name) => !['hostname', 'user', 'port', 'identityfile'].includes(name))) {
    const value = values.get(keyword)?.args.join(' ') ?? OPENSSH_DEFAULTS[keyword];
    if (value !== undefined) seen.set(keyword, [value]);
  }
  return seen;
};

for (const host of ['cas-fra1', 'cas-other', 'cas-lab1', 'bastion', '10.9.1.2', 'tenant-a', 'tenant-b', 'spaced', 'somewhere']) {
  test(`${host}: the honoured keywords are what ssh -G says`, (t) => {
    const expected = openssh(host);
    const actual = ours(host);
    for (const [keyword, values] of actual) {
      // ssh -G lists its default identity files when none is configured; ours lists only configured ones.
      if (keyword === 'identityfile' && values.length === 0) continue;
      t.deepEqual(values, expected.get(keyword) ?? [], `${host}: ${keyword}`);
    }
  });
}

test('Match exec is refused where it would decide, not run', (t) => {
  const path = join(dir, 'exec.conf');
  writeFileSync(path, 'Match host nowhere exec "touch /tmp/should-not-exist"\n  User a\nMatch exec "true"\n  User b\n');
  const execFiles = readSshConfig(path);
  t.notThrows(() => evaluateSshConfig(execFiles.slice(0, 0), { host: 'x', localUser: 'me' }));
  const error = t.throws(() => evaluateSshConfig(execFiles, { host: 'x', localUser: 'me' }), { instanceOf: ConfigError });
  t.regex(error?.message ?? '', /exec\.conf:3: casfleet does not evaluate Match exec/);
});

test('a missing --ssh-config file is an error, a missing default one is not', (t) => {
  t.throws(() => readSshConfig(join(dir, 'nope')), { instanceOf: ConfigError, message: /ssh config .*nope does not exist/ });
  t.deepEqual(readSshConfig('none'), []);
});
