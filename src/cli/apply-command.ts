// casfleet apply <playbook> -i <inventory> [-l PATTERN] [-C] [-D] [-f N] [-e k=v]... [--json]
// Everything is validated (config, inventory, selection, playbook, per-host vars) before any host
// is contacted; a validation problem exits 1 and touches nothing.

import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { CONFIG_DEFAULTS } from '../config/config-schema.ts';
import { UsageError } from '../errors.ts';
import { hostConnection } from '../inventory/connection-vars.ts';
import { loadExtraVars } from './extra-vars-input.ts';
import { loadPlaybook } from '../playbook/load-playbook.ts';
import { resolveHostVars } from '../playbook/host-vars.ts';
import { hostFailed } from '../report/events.ts';
import { createReporter } from './create-reporter.ts';
import { runPlaybook, type HostTarget } from '../run/run-playbook.ts';
import { createConnector } from '../ssh/connect-ramp.ts';
import { isInsideNetns, reexecInNetns, requiredNetns } from './controller-netns.ts';
import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { loadSelection } from './inventory-input.ts';
import { parseCommandLine, positiveInt } from './parse-options.ts';

export const APPLY_HELP = `Usage: casfleet apply <playbook> [-i INVENTORY] [options]

Apply a playbook to the selected hosts: gather facts, plan, change only what differs.
<playbook> is a built-in name (scenario-a, scenario-b) or a path to a .ts playbook.

Options:
  -i, --inventory FILE    Ansible inventory (YAML or INI); default: the local lab's
  -l, --limit PATTERN     host pattern: names, groups, globs (cas-0*), a:b, a,b, &grp, !grp, @file
  -e, --extra-vars K=V    set a playbook var (repeatable); -e @vars.yaml reads a file; highest precedence
  -C, --check             connect and show what would change; change nothing
  -D, --diff              show before/after of what each step manages
  -f, --forks N           hosts in parallel (default ${CONFIG_DEFAULTS.forks})
  -u, --user USER         login user when the inventory sets no ansible_user
      --private-key FILE  key when the inventory sets no ansible_ssh_private_key_file
      --known-hosts FILE  known_hosts to verify host keys against (default ~/.ssh/known_hosts)
      --config FILE       casfleet config file (default: searched from the current directory)
      --json              JSON Lines on stdout: one event per step result, then the recap
  -v, --verbose           also list steps that were already compliant
  -h, --help              show this help

Exit codes: 0 all hosts fine · 1 usage/config/validation error (no host touched) · 2 a host failed or was unreachable

Examples:
  casfleet apply scenario-a -i inventories/prod.yml
  casfleet apply scenario-a -i inventories/prod.yml --check --diff
  casfleet apply scenario-b -i inventories/prod.yml -l canary -e hardwareVpnSubnets=10.8.0.0/24
  casfleet apply scenario-a -i inventories/prod.yml -l 'cas-0*:!canary' -e pairing=true
  casfleet apply ./playbooks/my-playbook.ts -i hosts.ini --json > run.jsonl
`;

const OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  forks: { type: 'string', short: 'f' },
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const applyCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'apply');
  if (values.help) {
    process.stdout.write(APPLY_HELP);
    return EXIT_OK;
  }
  const [reference, ...rest] = positionals;
  if (!reference) throw new UsageError("apply needs a playbook: 'casfleet apply scenario-a -i inventory.yml' (see --help)");
  if (rest.length > 0) throw new UsageError(`unexpected argument${rest.length > 1 ? 's' : ''}: ${rest.join(' ')}`);
  const cwd = process.cwd();
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
  const targets: HostTarget[] = inventoryHosts.map((host) => {
    const connection = hostConnection({ ...host, vars: { ...host.vars, ...extra.vars } });
    const vars = hostVars.get(host.name)!;
    const hostKnownHosts = typeof host.vars.casfleet_known_hosts === 'string' ? host.vars.casfleet_known_hosts : undefined;
    const knownHosts = values['known-hosts'] ?? hostKnownHosts ?? config.knownHosts ?? defaultKnownHosts;
    const privateKey = connection.privateKeyFile ?? values['private-key'] ?? config.privateKey;
    return {
      name: host.name,
      connect: {
        name: host.name,
        host: connection.address,
        port: connection.port,
        username: connection.user ?? values.user ?? config.user ?? userInfo().username,
        ...(privateKey ? { privateKeyPath: resolve(cwd, privateKey) } : {}),
        knownHostsPaths: [resolve(cwd, knownHosts)],
        readyTimeoutMs: (config.connectTimeout ?? CONFIG_DEFAULTS.connectTimeout) * 1000,
      },
      become: { enabled: connection.become, ...(connection.becomeUser ? { user: connection.becomeUser } : {}) },
      items: playbook.steps(vars),
      handlers: playbook.handlers?.(vars) ?? {},
    };
  });

  const reporter = await createReporter({ json: Boolean(values.json), verbose: Boolean(values.verbose) });
  const commandTimeoutMs = (config.commandTimeout ?? CONFIG_DEFAULTS.commandTimeout) * 1000;
  const recap = await runPlaybook({
    playbook: playbook.name,
    targets,
    options: { check: Boolean(values.check), diff: Boolean(values.diff), forks, gatherTimeoutMs: commandTimeoutMs, applyTimeoutMs: commandTimeoutMs },
    connect: createConnector({ maxHandshakes: config.maxHandshakes ?? CONFIG_DEFAULTS.maxHandshakes }),
    emit: (event) => reporter.emit(event),
  });
  await reporter.finish();
  return Object.values(recap).some(hostFailed) ? EXIT_HOST_FAILED : EXIT_OK;
};
