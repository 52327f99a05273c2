// How a host is reached: inventory and flags beat ssh_config (Ansible puts them on ssh's command
// line), ssh_config fills in the rest, ProxyJump becomes jump hosts resolved by their own config.
import test from 'ava';
import { ConfigError } from '../../src/errors.ts';
import { commandLineSetting, type LocalContext, parseJumpHop, resolveEndpoint } from '../../src/ssh-config/resolve-endpoint.ts';
import { parseSshArgs } from '../../src/ssh-config/ssh-args.ts';
import { parseSshConfigLines } from '../../src/ssh-config/ssh-config-lines.ts';

const local: LocalContext = { home: '/home/op', localUser: 'op', localHost: 'laptop', env: { SSH_AUTH_SOCK: '/run/agent.sock' } };
const files = [
  {
    path: '/home/op/.ssh/config',
    lines: parseSshConfigLines(
      [
        'Host cas-fra1',
        '  HostName 203.0.113.7',
        '  User ops',
        '  Port 2222',
        '  IdentityFile ~/.ssh/cas-%h',
        '  ProxyJump bastion',
        'Host bastion',
        '  HostName 198.51.100.2',
        '  User jump',
        '  IdentityFile ~/.ssh/jump',
        '  UserKnownHostsFile ~/.ssh/known_hosts.jump',
        'Host lax',
        '  StrictHostKeyChecking no',
        'Host old-proxy',
        '  ProxyCommand nc %h %p',
        '',
      ].join('\n'),
      '/home/op/.ssh/config',
    ),
  },
];

test('an alias-only host gets HostName, User, Port, IdentityFile and its jump host from ssh_config', (t) => {
  const endpoint = resolveEndpoint(files, local, { name: 'cas-fra1', destination: 'cas-fra1', commandLine: [] });
  t.like(endpoint, {
    host: '203.0.113.7',
    username: 'ops',
    port: 2222,
    knownHostsPaths: ['/home/op/.ssh/known_hosts'],
    hostKeyPolicy: 'strict',
  });
  t.deepEqual(endpoint.identityFiles, [{ path: '/home/op/.ssh/cas-203.0.113.7', required: false, source: '/home/op/.ssh/config:5' }]);
  t.is(endpoint.jump?.length, 1);
  t.like(endpoint.jump?.[0], {
    name: 'bastion',
    host: '198.51.100.2',
    username: 'jump',
    port: 22,
    knownHostsPaths: ['/home/op/.ssh/known_hosts.jump'],
  });
});

test('inventory vars beat ssh_config, as on ssh command line', (t) => {
  const endpoint = resolveEndpoint(files, local, {
    name: 'cas-fra1',
    destination: 'cas-fra1',
    commandLine: [
      commandLineSetting('user', 'root', 'ansible_user'),
      commandLineSetting('port', '22', 'ansible_port'),
      commandLineSetting('identityfile', '/keys/fleet', 'ansible_ssh_private_key_file'),
    ],
  });
  t.like(endpoint, { username: 'root', port: 22 });
  t.deepEqual(
    endpoint.identityFiles?.map((file) => [file.path, file.required]),
    [
      ['/keys/fleet', true],
      ['/home/op/.ssh/cas-203.0.113.7', false],
    ],
  );
});

test('ansible_ssh_common_args -J and -o ProxyJump name jump hosts, with user and port', (t) => {
  const { lines, ignored } = parseSshArgs("-o ControlMaster=auto -o 'ProxyJump=admin@jump1:2200,jump2' -C", 'ansible_ssh_common_args');
  t.deepEqual(ignored, ['-o ControlMaster=auto', '-C']);
  const endpoint = resolveEndpoint(files, local, { name: 'cas-09', destination: '10.0.0.9', commandLine: lines });
  t.deepEqual(
    endpoint.jump?.map((hop) => `${hop.username}@${hop.host}:${hop.port}`),
    ['admin@jump1:2200', 'op@jump2:22'],
  );
  t.deepEqual(
    parseSshArgs('-J bastion', 'x').lines.map((line) => [line.keyword, ...line.args]),
    [['proxyjump', 'bastion']],
  );
  t.deepEqual(parseJumpHop('ssh://u@[2001:db8::1]:2222', 'x'), { host: '2001:db8::1', user: 'u', port: 2222 });
});

test('--jump beats ssh_config, and none goes direct', (t) => {
  const direct = resolveEndpoint(files, local, {
    name: 'cas-fra1',
    destination: 'cas-fra1',
    commandLine: [commandLineSetting('proxyjump', 'none', '--jump')],
  });
  t.is(direct.jump, undefined);
});

test('a jump host without keys of its own is offered the target explicit key, and shares its known_hosts', (t) => {
  const endpoint = resolveEndpoint(files, local, {
    name: 'cas-09',
    destination: '10.0.0.9',
    commandLine: [
      commandLineSetting('proxyjump', 'root@10.0.0.1', '--jump'),
      commandLineSetting('identityfile', '/keys/fleet', '--private-key'),
      commandLineSetting('userknownhostsfile', '/lab/known_hosts', '--known-hosts'),
    ],
  });
  t.like(endpoint.jump?.[0], { host: '10.0.0.1', username: 'root', knownHostsPaths: ['/lab/known_hosts'] });
  t.deepEqual(
    endpoint.jump?.[0]?.identityFiles?.map((file) => file.path),
    ['/keys/fleet'],
  );
});

test('StrictHostKeyChecking no and ProxyCommand are refused, naming where they are set', (t) => {
  t.throws(() => resolveEndpoint(files, local, { name: 'lax', destination: 'lax', commandLine: [] }), {
    instanceOf: ConfigError,
    message: /config:13: StrictHostKeyChecking no for lax is refused/,
  });
  t.throws(() => resolveEndpoint(files, local, { name: 'old-proxy', destination: 'old-proxy', commandLine: [] }), {
    instanceOf: ConfigError,
    message: /config:15: ProxyCommand for old-proxy is not supported/,
  });
});

test('--accept-new applies to the target and its jump hosts', (t) => {
  const endpoint = resolveEndpoint(files, local, {
    name: 'cas-fra1',
    destination: 'cas-fra1',
    commandLine: [commandLineSetting('stricthostkeychecking', 'accept-new', '--accept-new')],
  });
  t.is(endpoint.hostKeyPolicy, 'accept-new');
  t.is(endpoint.jump?.[0]?.hostKeyPolicy, 'accept-new');
});
