// What `apply` and `plan` share: the selection, connection and vars options, and turning them into
// validated host targets. Everything is validated (config, inventory, selection, playbook, every
// host's vars) before any host is contacted; a problem exits 1 and touches nothing.

import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { CONFIG_DEFAULTS, type CasfleetConfig } from '../config/config-schema.ts';
import { loadConfig } from '../config/load-config.ts';
import { PlaybookError } from '../errors.ts';
import { hostConnection } from '../inventory/connection-vars.ts';
import type { Inventory } from '../inventory/types.ts';
import type { AnyPlaybook } from '../playbook/define-playbook.ts';
import { resolveHostVars, type ExtraVars } from '../playbook/host-vars.ts';
import { loadPlaybook } from '../playbook/load-playbook.ts';
import type { HostTarget, RunPlaybookInput } from '../run/run-playbook.ts';
import { createConnector } from '../ssh/connect-ramp.ts';
import type { Connection, ConnectOptions } from '../ssh/connection.ts';
import { isInsideNetns, reexecInNetns, requiredNetns } from './controller-netns.ts';
import { loadExtraVars } from './extra-vars-input.ts';
import { loadSelection } from './inventory-input.ts';
import { positiveInt, type OptionSpec } from './parse-options.ts';

export const TARGET_OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  forks: { type: 'string', short: 'f' },
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const TARGET_HELP = `  -i, --inventory FILE    Ansible inventory (YAML or INI); default: the local lab's
  -l, --limit PATTERN     host pattern: names, groups, globs (cas-0*), a:b, a,b, &grp, !grp, ~regex, @file
  -e, --extra-vars K=V    set a playbook var (repeatable); -e @vars.yaml reads a file; highest precedence
  -f, --forks N           hosts in parallel (default ${CONFIG_DEFAULTS.forks})
  -u, --user USER         login user when the inventory sets no ansible_user
      --private-key FILE  key when the inventory sets no ansible_ssh_private_key_file
      --known-hosts FILE  known_hosts to verify host keys against (default ~/.ssh/known_hosts)
      --config FILE       casfleet config file (default: searched from the current directory)
      --json              JSON output for machines
  -v, --verbose           also list what was already compliant, and every host in the summary
  -h, --help              show this help`;

export interface TargetValues {
  readonly inventory?: string | undefined;
  readonly limit?: string | undefined;
  readonly 'extra-vars'?: string[] | undefined;
  readonly forks?: string | undefined;
  readonly user?: string | undefined;
  readonly 'private-key'?: string | undefined;
  readonly 'known-hosts'?: string | undefined;
  readonly config?: string | undefined;
}

export interface PreparedRun {
  readonly config: CasfleetConfig;
  readonly forks: number;
  readonly inventory: Inventory;
  readonly hosts: readonly string[];
  readonly playbook: AnyPlaybook;
  readonly extra: ExtraVars;
  readonly targets: readonly HostTarget[];
  /** One connector for the whole invocation, so a plan pass and the apply share the handshake ramp. */
  readonly connect: (options: ConnectOptions) => Promise<Connection>;
  /** The runner's options for this invocation, in check mode or not. */
  readonly runOptions: (mode: { readonly check: boolean; readonly diff: boolean }) => RunPlaybookInput['options'];
}

// A playbook's own code runs here, before any connection: an exception in it is the playbook's
// error (exit 1, nothing touched), reported with the host whose vars triggered it.
const buildHostPlaybook = (playbook: AnyPlaybook, host: string, vars: unknown, sshPort: number) => {
  try {
    return {
      items: playbook.steps(vars as never),
      handlers: playbook.handlers?.(vars as never) ?? {},
      exposure: playbook.exposure?.(vars as never, { sshPort }),
    };
  } catch (error) {
    throw new PlaybookError(`playbook ${playbook.name} failed to build its steps for ${host}`, [
      { path: `hosts.${host}`, message: error instanceof Error ? error.message : String(error) },
    ], { cause: error });
  }
};

/**
 * Validate everything and build the targets, or — when the hosts live behind a lab namespace and
 * this process is outside it — re-run the whole command in there and return its exit code.
 */
export const prepareRun = async (reference: string, values: TargetValues, cwd: string): Promise<PreparedRun | number> => {
  const { config } = await loadConfig(cwd, values.config);
  const forks = positiveInt(values.forks, '--forks') ?? config.forks ?? CONFIG_DEFAULTS.forks;
  const { inventory, hosts } = await loadSelection(values.inventory, values.limit, cwd);
  // Lab hosts are reachable only from the lab's controller namespace: continue in there (the child
  // validates the playbook and vars itself, so nothing is loaded twice).
  const netns = requiredNetns(inventory, hosts);
  if (netns && !isInsideNetns(netns)) return reexecInNetns(netns);

  const playbook = await loadPlaybook(reference, cwd);
  const extra = await loadExtraVars(values['extra-vars'] ?? [], cwd);
  const inventoryHosts = hosts.map((name) => inventory.hosts.get(name)!);
  const hostVars = resolveHostVars(playbook, inventoryHosts, extra);
  const defaultKnownHosts = resolve(homedir(), '.ssh/known_hosts');
  const readyTimeoutMs = (config.connectTimeout ?? CONFIG_DEFAULTS.connectTimeout) * 1000;

  const targets: HostTarget[] = inventoryHosts.map((host) => {
    const connection = hostConnection({ ...host, vars: { ...host.vars, ...extra.vars } });
    const vars = hostVars.get(host.name)!;
    const hostKnownHosts = typeof host.vars.casfleet_known_hosts === 'string' ? host.vars.casfleet_known_hosts : undefined;
    const knownHosts = values['known-hosts'] ?? hostKnownHosts ?? config.knownHosts ?? defaultKnownHosts;
    const privateKey = connection.privateKeyFile ?? values['private-key'] ?? config.privateKey;
    const { items, handlers, exposure } = buildHostPlaybook(playbook, host.name, vars, connection.port);
    return {
      name: host.name,
      connect: {
        name: host.name,
        host: connection.address,
        port: connection.port,
        username: connection.user ?? values.user ?? config.user ?? userInfo().username,
        ...(privateKey ? { privateKeyPath: resolve(cwd, privateKey) } : {}),
        knownHostsPaths: [resolve(cwd, knownHosts)],
        readyTimeoutMs,
      },
      become: { enabled: connection.become, ...(connection.becomeUser ? { user: connection.becomeUser } : {}) },
      items,
      handlers,
      ...(exposure ? { exposure } : {}),
    };
  });
  const commandTimeoutMs = (config.commandTimeout ?? CONFIG_DEFAULTS.commandTimeout) * 1000;
  return {
    config,
    forks,
    inventory,
    hosts,
    playbook,
    extra,
    targets,
    connect: createConnector({ maxHandshakes: config.maxHandshakes ?? CONFIG_DEFAULTS.maxHandshakes }),
    runOptions: ({ check, diff }) => ({ check, diff, forks, gatherTimeoutMs: commandTimeoutMs, applyTimeoutMs: commandTimeoutMs }),
  };
};
