// How to reach a host, from everything that may say so, with Ansible's and OpenSSH's precedence:
// what the inventory and casfleet's flags set explicitly is "on ssh's command line" and so obtained
// first (ansible_user, -u, --private-key, --known-hosts, --accept-new, --jump), then the inventory's
// ansible_ssh_common_args / ansible_ssh_extra_args, then the ssh_config files, where the first value
// obtained wins. ssh_config is looked up by the name ssh would be given: ansible_host, else the
// inventory name, so an inventory of ssh_config aliases works unchanged. Pure.

import { ConfigError } from '../errors.ts';
import type { IdentityFile, SshEndpoint } from '../ssh/connection.ts';
import { evaluateSshConfig, expandHostName, type SshConfigResult, type SshConfigSetting } from './evaluate-ssh-config.ts';
import type { SshConfigFile } from './ssh-config-file.ts';
import type { SshConfigLine } from './ssh-config-lines.ts';

export const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';
const MAX_HOPS = 8;

export interface LocalContext {
  readonly home: string;
  readonly localUser: string;
  /** Short host name of this machine, for `%l`. */
  readonly localHost: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface EndpointRequest {
  /** Inventory name (or the jump host as written). */
  readonly name: string;
  /** What ssh would be given: ansible_host, else the name. */
  readonly destination: string;
  /** Settings obtained before any config file, in precedence order. */
  readonly commandLine: readonly SshConfigLine[];
  /** Keys to offer a jump host that has none of its own (the target's explicit key). */
  readonly fallbackIdentities?: readonly IdentityFile[];
  /** known_hosts for a jump host whose config names none (the target's). */
  readonly fallbackKnownHosts?: readonly string[];
}

export interface ResolvedEndpoint extends SshEndpoint {
  readonly jump?: readonly SshEndpoint[];
}

/** A setting written as a command-line line. */
export const commandLineSetting = (keyword: string, value: string | readonly string[], source: string): SshConfigLine => ({
  keyword,
  args: typeof value === 'string' ? [value] : [...value],
  source,
});

const expandTokens = (text: string, tokens: Readonly<Record<string, string>>, setting: SshConfigSetting, local: LocalContext): string => {
  const expanded = text.replace(/%(.)/g, (_all, token: string) => {
    if (token === '%') return '%';
    const value = tokens[token];
    if (value === undefined) throw new ConfigError(`ssh config ${setting.source}: token %${token} is not supported here`, []);
    return value;
  });
  return expanded === '~' ? local.home : expanded.startsWith('~/') ? `${local.home}/${expanded.slice(2)}` : expanded;
};

const yesNo = (setting: SshConfigSetting | undefined, keyword: string): boolean | undefined => {
  const word = setting?.args[0]?.toLowerCase();
  if (word === undefined) return undefined;
  if (word === 'yes' || word === 'true') return true;
  if (word === 'no' || word === 'false') return false;
  throw new ConfigError(`ssh config ${setting!.source}: ${keyword} must be yes or no, got '${setting!.args[0]}'`, []);
};

const seconds = (setting: SshConfigSetting | undefined, keyword: string): number | undefined => {
  const text = setting?.args[0];
  if (text === undefined || text.toLowerCase() === 'none') return undefined;
  if (!/^\d+$/.test(text))
    throw new ConfigError(`ssh config ${setting!.source}: ${keyword} must be a whole number of seconds, got '${text}'`, []);
  return Number(text);
};

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, one hop of a ProxyJump list. */
export const parseJumpHop = (text: string, source: string): { readonly host: string; readonly user?: string; readonly port?: number } => {
  const match = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s/]+)(?::(\d+))?\/?$/.exec(text.trim());
  if (!match) throw new ConfigError(`${source}: '${text}' is not a jump host ([user@]host[:port])`, []);
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new ConfigError(`${source}: port ${port} of jump host '${text}' is out of range`, []);
  return {
    host: match[2]!.replace(/^\[(.*)\]$/, '$1'),
    ...(match[1] !== undefined ? { user: match[1] } : {}),
    ...(port !== undefined ? { port } : {}),
  };
};

class EndpointResolver {
  constructor(
    private readonly files: readonly SshConfigFile[],
    private readonly local: LocalContext,
  ) {}

  resolve(request: EndpointRequest, depth = 0, seen: readonly string[] = []): ResolvedEndpoint {
    if (depth > MAX_HOPS || seen.includes(request.destination)) {
      throw new ConfigError(
        `ProxyJump for ${request.name} loops or goes deeper than ${MAX_HOPS} hops (${[...seen, request.destination].join(' -> ')})`,
        [],
      );
    }
    const explicitUser = request.commandLine.find((line) => line.keyword === 'user')?.args[0];
    const config: SshConfigResult = evaluateSshConfig([{ path: '(command line)', lines: request.commandLine }, ...this.files], {
      host: request.destination,
      localUser: this.local.localUser,
      ...(explicitUser !== undefined ? { user: explicitUser } : {}),
    });
    const { values } = config;
    const hostName = values.get('hostname');
    const host = hostName ? expandHostName(hostName.args[0] ?? '', request.destination) : request.destination;
    const portSetting = values.get('port');
    const port = portSetting ? Number(portSetting.args[0]) : 22;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`${portSetting!.source}: Port must be 1 to 65535, got '${portSetting!.args[0]}'`, []);
    }
    const username = values.get('user')?.args[0] ?? this.local.localUser;
    const tokens = {
      h: host,
      n: request.destination,
      p: String(port),
      r: username,
      u: this.local.localUser,
      d: this.local.home,
      l: this.local.localHost,
      L: this.local.localHost,
      i: String(process.getuid?.() ?? ''),
    };
    const explicitSources = new Set(request.commandLine.map((line) => line.source));
    const identityFiles: IdentityFile[] = config.identityFiles.map((setting) => ({
      path: expandTokens(setting.args[0] ?? '', tokens, setting, this.local),
      required: explicitSources.has(setting.source),
      source: setting.source,
    }));
    if (identityFiles.length === 0) identityFiles.push(...(request.fallbackIdentities ?? []).map((file) => ({ ...file, required: false })));

    const known = values.get('userknownhostsfile');
    const knownHostsPaths = known
      ? known.args.filter((arg) => arg.toLowerCase() !== 'none').map((arg) => expandTokens(arg, tokens, known, this.local))
      : (request.fallbackKnownHosts ?? [expandTokens(DEFAULT_KNOWN_HOSTS, tokens, { args: [], source: 'default' }, this.local)]);

    const strict = values.get('stricthostkeychecking');
    const strictWord = strict?.args[0]?.toLowerCase() ?? 'yes';
    if (strictWord === 'no' || strictWord === 'off') {
      throw new ConfigError(
        `${strict!.source}: StrictHostKeyChecking ${strict!.args[0]} for ${request.name} is refused: casfleet never logs in without verifying the host key (use --accept-new for a first contact)`,
        [],
      );
    }
    if (!['yes', 'ask', 'accept-new'].includes(strictWord)) {
      throw new ConfigError(`${strict!.source}: StrictHostKeyChecking must be yes, ask or accept-new, got '${strict!.args[0]}'`, []);
    }
    const agentSetting = values.get('identityagent');
    const agentWord = agentSetting?.args[0];
    const agent =
      agentWord === undefined
        ? undefined
        : agentWord.toLowerCase() === 'none'
          ? null
          : agentWord === 'SSH_AUTH_SOCK'
            ? (this.local.env.SSH_AUTH_SOCK ?? null)
            : agentWord.startsWith('$')
              ? (this.local.env[agentWord.slice(1)] ?? null)
              : expandTokens(agentWord, tokens, agentSetting!, this.local);
    const connectTimeout = seconds(values.get('connecttimeout'), 'ConnectTimeout');
    const aliveInterval = seconds(values.get('serveraliveinterval'), 'ServerAliveInterval');
    const aliveCount = seconds(values.get('serveralivecountmax'), 'ServerAliveCountMax');
    const identitiesOnly = yesNo(values.get('identitiesonly'), 'IdentitiesOnly');
    const hashKnownHosts = yesNo(values.get('hashknownhosts'), 'HashKnownHosts');

    const proxyCommand = values.get('proxycommand');
    if (proxyCommand && proxyCommand.args.join(' ').toLowerCase() !== 'none') {
      throw new ConfigError(
        `${proxyCommand.source}: ProxyCommand for ${request.name} is not supported: casfleet speaks SSH itself; use ProxyJump`,
        [],
      );
    }
    const endpoint: SshEndpoint = {
      name: request.name,
      host,
      port,
      username,
      identityFiles,
      ...(identitiesOnly !== undefined ? { identitiesOnly } : {}),
      ...(agent !== undefined ? { agent } : {}),
      knownHostsPaths,
      hostKeyPolicy: strictWord === 'accept-new' ? 'accept-new' : 'strict',
      ...(hashKnownHosts !== undefined ? { hashKnownHosts } : {}),
      ...(connectTimeout !== undefined && connectTimeout > 0 ? { readyTimeoutMs: connectTimeout * 1000 } : {}),
      // 0 is OpenSSH's "off"; casfleet keeps its own keepalive then: a silent host must not hang a run.
      ...(aliveInterval !== undefined && aliveInterval > 0 ? { keepaliveIntervalMs: aliveInterval * 1000 } : {}),
      ...(aliveCount !== undefined ? { keepaliveCountMax: aliveCount } : {}),
    };
    const jump = this.jumpsFor(request, values.get('proxyjump'), endpoint, depth, [...seen, request.destination]);
    return jump.length > 0 ? { ...endpoint, jump } : endpoint;
  }

  /** The hops for a ProxyJump value: the first hop's own route, then the hops in order. */
  private jumpsFor(
    request: EndpointRequest,
    setting: SshConfigSetting | undefined,
    target: SshEndpoint,
    depth: number,
    seen: readonly string[],
  ): SshEndpoint[] {
    const value = setting?.args.join(' ').trim();
    if (setting === undefined || value === undefined || value === '' || value.toLowerCase() === 'none') return [];
    const hops = value.split(',').map((text) => parseJumpHop(text, setting.source));
    const fallback = {
      fallbackIdentities: target.identityFiles?.filter((file) => file.required) ?? [],
      fallbackKnownHosts: target.knownHostsPaths,
    };
    // How to check host keys was said for the whole invocation (--known-hosts, --accept-new): every hop too.
    const strictLine = request.commandLine.filter((line) =>
      ['stricthostkeychecking', 'userknownhostsfile', 'hashknownhosts'].includes(line.keyword),
    );
    const resolved: SshEndpoint[] = [];
    hops.forEach((hop, index) => {
      const commandLine = [
        ...(hop.user !== undefined ? [commandLineSetting('user', hop.user, setting.source)] : []),
        ...(hop.port !== undefined ? [commandLineSetting('port', String(hop.port), setting.source)] : []),
        ...strictLine,
        // Only the first hop follows its own ProxyJump; the later ones are reached through the list.
        ...(index > 0 ? [commandLineSetting('proxyjump', 'none', setting.source)] : []),
      ];
      const { jump, ...endpoint } = this.resolve({ name: hop.host, destination: hop.host, commandLine, ...fallback }, depth + 1, seen);
      resolved.push(...(jump ?? []), endpoint);
    });
    return resolved;
  }
}

/** Resolves one target (and its jump hosts) against the ssh_config files. */
export const resolveEndpoint = (files: readonly SshConfigFile[], local: LocalContext, request: EndpointRequest): ResolvedEndpoint =>
  new EndpointResolver(files, local).resolve(request);
