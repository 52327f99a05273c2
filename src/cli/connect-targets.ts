// The ConnectOptions of each selected host: the inventory's connection vars, casfleet's flags and
// config, ansible_ssh_common_args and the ssh_config files, merged with Ansible's and OpenSSH's
// precedence by src/ssh-config/resolve-endpoint.ts. Used by apply, plan and keys scan.

import { homedir, hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { CasfleetConfig } from '../config/config-schema.ts';
import { formatSourceIssue, type SourceIssue } from '../errors.ts';
import { hostConnection } from '../inventory/connection-vars.ts';
import type { HostConnection, InventoryHost } from '../inventory/types.ts';
import type { ConnectOptions } from '../ssh/connection.ts';
import { commandLineSetting, type LocalContext, resolveEndpoint } from '../ssh-config/resolve-endpoint.ts';
import { parseSshArgs } from '../ssh-config/ssh-args.ts';
import { readSshConfig, type SshConfigFile } from '../ssh-config/ssh-config-file.ts';
import type { SshConfigLine } from '../ssh-config/ssh-config-lines.ts';

/** The flags every connecting command shares. */
export interface ConnectFlags {
  readonly user?: string | undefined;
  readonly 'private-key'?: string | undefined;
  readonly 'known-hosts'?: string | undefined;
  readonly 'ssh-config'?: string | undefined;
  readonly 'accept-new'?: boolean | undefined;
  readonly jump?: string | undefined;
}

export const CONNECT_OPTIONS = {
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  'ssh-config': { type: 'string' },
  'accept-new': { type: 'boolean' },
  jump: { type: 'string', short: 'J' },
} as const;

export const CONNECT_HELP = `  -u, --user USER         login user when the inventory sets no ansible_user
      --private-key FILE  key when the inventory sets no ansible_ssh_private_key_file
      --known-hosts FILE  known_hosts to verify host keys against (default: ssh_config's, else ~/.ssh/known_hosts)
      --ssh-config FILE   OpenSSH client config to read (default ~/.ssh/config, then /etc/ssh/ssh_config); none: no file
      --accept-new        first contact: record the key of a host known_hosts does not know yet (a changed key is still refused)
  -J, --jump HOST         reach every host through this jump host ([user@]host[:port], several comma-separated; none: direct)`;

export interface ConnectContext {
  readonly files: readonly SshConfigFile[];
  readonly local: LocalContext;
  readonly cwd: string;
  readonly flags: ConnectFlags;
  readonly config: CasfleetConfig;
  /** ssh options from inventories that casfleet ignored, by option (printed once as a warning). */
  readonly ignored: Map<string, string[]>;
  /** The known_hosts file each host's inventory names (casfleet_known_hosts, see known-hosts-choice.ts). */
  readonly inventoryKnownHosts: ReadonlyMap<string, string | undefined>;
}

export const connectContext = (
  flags: ConnectFlags,
  config: CasfleetConfig,
  cwd: string,
  inventoryKnownHosts: ReadonlyMap<string, string | undefined> = new Map(),
): ConnectContext => ({
  files: readSshConfig(flags['ssh-config'] ?? config.sshConfig),
  local: { home: homedir(), localUser: userInfo().username, localHost: hostname().split('.')[0] ?? '', env: process.env },
  cwd,
  flags,
  config,
  ignored: new Map(),
  inventoryKnownHosts,
});

/** Settings "on ssh's command line", most important first (the first obtained wins). */
const commandLineFor = (host: InventoryHost, connection: HostConnection, context: ConnectContext): SshConfigLine[] => {
  const { flags, config, cwd } = context;
  const lines: SshConfigLine[] = [];
  const add = (keyword: string, value: string | undefined, source: string): void => {
    if (value !== undefined) lines.push(commandLineSetting(keyword, value, source));
  };
  add('proxyjump', flags.jump, '--jump');
  add('user', connection.user, `${host.name}: ansible_user`);
  add('user', flags.user, '-u');
  add('user', config.user, 'casfleet config: user');
  add('port', connection.port === undefined ? undefined : String(connection.port), `${host.name}: ansible_port`);
  // One explicit key, as before: the inventory's, else the flag's, else the config's.
  const key = connection.privateKeyFile ?? flags['private-key'] ?? config.privateKey;
  add(
    'identityfile',
    key === undefined ? undefined : resolve(cwd, key),
    connection.privateKeyFile
      ? `${host.name}: ansible_ssh_private_key_file`
      : flags['private-key']
        ? '--private-key'
        : 'casfleet config: privateKey',
  );
  const hostKnownHosts = context.inventoryKnownHosts.get(host.name);
  add('userknownhostsfile', flags['known-hosts'] === undefined ? undefined : resolve(cwd, flags['known-hosts']), '--known-hosts');
  add('userknownhostsfile', hostKnownHosts, `${host.name}: casfleet_known_hosts`);
  add('userknownhostsfile', config.knownHosts === undefined ? undefined : resolve(cwd, config.knownHosts), 'casfleet config: knownHosts');
  if (flags['accept-new']) add('stricthostkeychecking', 'accept-new', '--accept-new');
  add(
    'connecttimeout',
    config.connectTimeout === undefined ? undefined : String(Math.ceil(config.connectTimeout)),
    'casfleet config: connectTimeout',
  );
  if (connection.sshArgs !== undefined) {
    const parsed = parseSshArgs(connection.sshArgs, `${host.name}: ansible_ssh_common_args/ansible_ssh_extra_args`);
    lines.push(...parsed.lines);
    for (const option of parsed.ignored) context.ignored.set(option, [...(context.ignored.get(option) ?? []), host.name]);
  }
  return lines;
};

/** How to connect to one inventory host. `vars` may carry -e overrides of connection vars. */
export const connectOptionsFor = (host: InventoryHost, context: ConnectContext, vars = host.vars): ConnectOptions => {
  const connection = hostConnection({ ...host, vars });
  return resolveEndpoint(context.files, context.local, {
    name: host.name,
    destination: connection.address,
    commandLine: commandLineFor(host, connection, context),
  });
};

/** The ignored ssh options, as warnings (once per option, naming a few hosts). */
export const ignoredOptionWarnings = (context: ConnectContext): SourceIssue[] =>
  [...context.ignored].map(([option, hosts]) => ({
    path: '',
    message: `ssh option ${option} (ansible_ssh_common_args of ${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ', …' : ''}) has no effect in casfleet`,
  }));

export const printWarnings = (issues: readonly SourceIssue[]): void => {
  for (const issue of issues) process.stderr.write(`casfleet: warning: ${formatSourceIssue(issue)}\n`);
};
