// What `apply`, `plan`, `pair` and `audit` share: the selection, connection and vars options, and
// turning them into validated host targets. Everything is validated (config, inventory, selection, playbook, every
// host's vars) before any host is contacted; a problem exits 1 and touches nothing.

import type { Become } from '../command/shell.ts';
import { type CasfleetConfig, CONFIG_DEFAULTS } from '../config/config-schema.ts';
import { loadConfig } from '../config/load-config.ts';
import { PlaybookError } from '../errors.ts';
import { turnTaker } from '../event-loop-turn.ts';
import { hostConnection } from '../inventory/connection-vars.ts';
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import type { AnyPlaybook, PlaybookExposure } from '../playbook/define-playbook.ts';
import { hostPlaybookIssues } from '../playbook/host-playbook.ts';
import { type ExtraVars, resolveHostVars } from '../playbook/host-vars.ts';
import { loadPlaybook } from '../playbook/load-playbook.ts';
import type { HostTarget, RunPlaybookInput } from '../run/run-playbook.ts';
import { createConnector } from '../ssh/connect-ramp.ts';
import type { Connection, ConnectOptions } from '../ssh/connection.ts';
import { BECOME_HELP, BECOME_OPTIONS, type BecomeFlags, becomePassword } from './become-password.ts';
import {
  CONNECT_HELP,
  CONNECT_OPTIONS,
  type ConnectFlags,
  connectContext,
  connectOptionsFor,
  ignoredOptionWarnings,
  printWarnings,
} from './connect-targets.ts';
import { isInsideNetns, reexecInNetns, requiredNetns } from './controller-netns.ts';
import { loadExtraVars } from './extra-vars-input.ts';
import { loadSelection } from './inventory-input.ts';
import { inventoryKnownHostsOf, refuseKnownHostsExtraVar } from './known-hosts-choice.ts';
import { type OptionSpec, positiveInt } from './parse-options.ts';

export const TARGET_OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  forks: { type: 'string', short: 'f' },
  ...CONNECT_OPTIONS,
  ...BECOME_OPTIONS,
  config: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const TARGET_HELP = `  -i, --inventory FILE    Ansible inventory (YAML or INI); default: the local lab's
  -l, --limit PATTERN     host pattern: names, groups, globs (cas-0*), a:b, a,b, &grp, !grp, ~regex, @file
  -e, --extra-vars K=V    set a playbook var (repeatable); -e @vars.yaml reads a file; highest precedence
  -f, --forks N           hosts in parallel (default ${CONFIG_DEFAULTS.forks})
${CONNECT_HELP}
${BECOME_HELP}
      --config FILE       casfleet config file (default: searched from the current directory)
      --json              JSON output for machines
  -v, --verbose           also list what was already compliant, and every host in the summary
  -h, --help              show this help`;

export interface TargetValues extends ConnectFlags, BecomeFlags {
  readonly inventory?: string | undefined;
  readonly limit?: string | undefined;
  readonly 'extra-vars'?: string[] | undefined;
  readonly forks?: string | undefined;
  readonly config?: string | undefined;
}

/** The selection and how to reach each selected host: what every command that connects shares. */
export interface PreparedFleet {
  readonly config: CasfleetConfig;
  readonly forks: number;
  readonly inventory: Inventory;
  readonly hosts: readonly string[];
  readonly extra: ExtraVars;
  /** Per selected host, in selection order: its inventory entry, connection and privilege escalation. */
  readonly access: readonly HostAccess[];
  /** One connector for the whole invocation, so every pass shares the handshake ramp. */
  readonly connect: (options: ConnectOptions) => Promise<Connection>;
  /** The remote command timeout (config `commandTimeout`). */
  readonly commandTimeoutMs: number;
}

export interface HostAccess {
  readonly host: InventoryHost;
  readonly connect: ConnectOptions;
  readonly become: Become;
}

export interface PreparedRun extends PreparedFleet {
  readonly playbook: AnyPlaybook;
  readonly targets: readonly HostTarget[];
  /** The runner's options for this invocation, in check mode or not. */
  readonly runOptions: (mode: { readonly check: boolean; readonly diff: boolean }) => RunPlaybookInput['options'];
}

// A playbook's own code runs here, before any connection: an exception in it is the playbook's
// error (exit 1, nothing touched), reported with the host whose vars triggered it. What it built is
// checked too (an array of steps, every notify naming one of its handlers): its types are not
// enforced at run time, and a step that cannot finish must be found before any host is changed.
const buildHostPlaybook = (playbook: AnyPlaybook, host: string, vars: unknown, sshPort: number) => {
  let built: Pick<HostTarget, 'items' | 'handlers'> & { exposure: PlaybookExposure | undefined };
  try {
    built = {
      items: playbook.steps(vars as never),
      handlers: playbook.handlers?.(vars as never) ?? {},
      exposure: playbook.exposure?.(vars as never, { sshPort }),
    };
  } catch (error) {
    throw new PlaybookError(
      `playbook ${playbook.name} failed to build its steps for ${host}`,
      [{ path: `hosts.${host}`, message: error instanceof Error ? error.message : String(error) }],
      { cause: error },
    );
  }
  const issues = hostPlaybookIssues(playbook.name, built.items, built.handlers);
  if (issues.length > 0) {
    throw new PlaybookError(
      `playbook ${playbook.name} built steps for ${host} that cannot run`,
      issues.map((issue) => ({ ...issue, path: `hosts.${host}.${issue.path}` })),
    );
  }
  return built;
};

/**
 * Validate the config, inventory, selection and extra vars and work out how to reach every selected
 * host, or — when the hosts live behind a lab namespace and this process is outside it — re-run the
 * whole command in there and return its exit code.
 */
export const prepareFleet = async (values: TargetValues, cwd: string): Promise<PreparedFleet | number> => {
  const { config } = await loadConfig(cwd, values.config);
  const forks = positiveInt(values.forks, '--forks') ?? config.forks ?? CONFIG_DEFAULTS.forks;
  const { inventory, hosts } = await loadSelection(values.inventory, values.limit, cwd);
  // Lab hosts are reachable only from the lab's controller namespace: continue in there (the child
  // validates everything itself, so nothing is loaded twice).
  const netns = requiredNetns(inventory, hosts);
  if (netns && !isInsideNetns(netns)) return reexecInNetns(netns);

  const extra = await loadExtraVars(values['extra-vars'] ?? [], cwd);
  refuseKnownHostsExtraVar(extra);
  const inventoryHosts = hosts.map((name) => inventory.hosts.get(name)!);
  // The inventory's known_hosts files count only when --known-hosts does not override them.
  const inventoryKnown = inventoryKnownHostsOf(inventoryHosts, inventory.source, values['known-hosts']);
  const context = connectContext(values, config, cwd, inventoryKnown);
  const connections = inventoryHosts.map((host) => hostConnection({ ...host, vars: { ...host.vars, ...extra.vars } }));
  const connects = inventoryHosts.map((host) => connectOptionsFor(host, context, { ...host.vars, ...extra.vars }));
  printWarnings(ignoredOptionWarnings(context));
  // Asked once (-K) or read from the environment, after everything else is known to be valid.
  const sharedPassword = await becomePassword(values, connections);
  const access = inventoryHosts.map((host, index): HostAccess => {
    const connection = connections[index]!;
    const password = connection.becomePassword ?? sharedPassword;
    return {
      host,
      connect: connects[index]!,
      become: {
        enabled: connection.become,
        ...(connection.becomeUser ? { user: connection.becomeUser } : {}),
        ...(password !== undefined ? { password } : {}),
      },
    };
  });
  return {
    config,
    forks,
    inventory,
    hosts,
    extra,
    access,
    connect: createConnector({ maxHandshakes: config.maxHandshakes ?? CONFIG_DEFAULTS.maxHandshakes }),
    commandTimeoutMs: (config.commandTimeout ?? CONFIG_DEFAULTS.commandTimeout) * 1000,
  };
};

/**
 * prepareFleet, then the playbook and every host's validated vars turned into host targets.
 * `playbookSource` is a reference to load (a built-in name or a path) or a playbook built in code (`pair`).
 */
export const prepareRun = async (
  playbookSource: string | AnyPlaybook,
  values: TargetValues,
  cwd: string,
): Promise<PreparedRun | number> => {
  const fleet = await prepareFleet(values, cwd);
  if (typeof fleet === 'number') return fleet;
  const playbook = typeof playbookSource === 'string' ? await loadPlaybook(playbookSource, cwd) : playbookSource;
  const hostVars = await resolveHostVars(
    playbook,
    fleet.access.map(({ host }) => host),
    fleet.extra,
  );
  const targets: HostTarget[] = [];
  // Building a host's steps runs the playbook and checks every step's arguments (a fraction of a ms
  // per host): a large fleet's start-up must not be one long task.
  const takeTurn = turnTaker();
  for (const { host, connect, become } of fleet.access) {
    await takeTurn();
    const { items, handlers, exposure } = buildHostPlaybook(playbook, host.name, hostVars.get(host.name)!, connect.port);
    // Ports are probed from this machine; a host behind a jump host cannot be probed from here.
    targets.push({ name: host.name, connect, become, items, handlers, ...(exposure && connect.jump === undefined ? { exposure } : {}) });
  }
  const { forks, commandTimeoutMs } = fleet;
  return {
    ...fleet,
    playbook,
    targets,
    runOptions: ({ check, diff }) => ({ check, diff, forks, gatherTimeoutMs: commandTimeoutMs, applyTimeoutMs: commandTimeoutMs }),
  };
};
