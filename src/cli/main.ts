// casfleet's command dispatcher: subcommands, global help, and the mapping of errors to exit codes.

import { isCasfleetError, isSetupError, UsageError } from '../errors.ts';
import { EXIT_HOST_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';

export const MAIN_HELP = `casfleet: typed, idempotent firewall and Scenario A/B changes for fleets of
General Bytes CAS servers, over SSH, Ansible-style.

Usage: casfleet <command> [options]

Commands:
  apply <playbook>   apply a playbook (scenario-a, scenario-b, or a .ts file) to inventory hosts,
                     optionally as a rollout: canary, batches, failure budgets, resume
  plan <playbook>    what apply would change, hosts with identical changes grouped
  pair <pattern>     open 7741 for pairing terminals; a timer on each host closes it again
                     (--for 15m, --close, --status)
  audit              what every server exposes, its scenario, drift and findings (read-only)
  support-bundle <host>  a tar.gz of what GB support asks for (iptables, ufw, batm-manage info, …)
  runs               past runs (run records); runs show <id|last>
  inventory          show the hosts, groups and merged vars an inventory resolves to
  keys scan          show the hosts' SSH host key fingerprints; --write adds unknown ones to known_hosts
  playbooks          list the built-in playbooks and their vars
  lab                the local lab fleet: lab up | lab status | lab probe | lab down
  init [DIR]         start a project: inventory template, example playbook, config, package.json
  completion SHELL   print a completion script for bash, zsh or fish

Run 'casfleet <command> --help' for a command's options and examples.

Examples:
  casfleet lab up --hosts 6
  casfleet apply scenario-a                    # the lab is the default inventory
  casfleet apply scenario-b -l canary -e hardwareVpnSubnets=10.8.0.0/24
  casfleet apply scenario-a -i inventories/prod.yml --check --diff
  casfleet pair cas-007 -i inventories/prod.yml --for 10m
  casfleet audit -i inventories/prod.yml --html audit.html
`;

export type Command = (argv: readonly string[]) => Promise<number>;

// The one list of commands: the dispatcher below and shell completion both read it. Loaded on
// demand: `apply` need not load the lab, nor `lab` the SSH stack. Names starting with `__` are for
// casfleet's own use (completion scripts call them) and are listed nowhere.
export const COMMANDS: Record<string, () => Promise<Command>> = {
  apply: async () => (await import('./apply-command.ts')).applyCommand,
  inventory: async () => (await import('./inventory-command.ts')).inventoryCommand,
  keys: async () => (await import('./keys-command.ts')).keysCommand,
  plan: async () => (await import('./plan-command.ts')).planCommand,
  pair: async () => (await import('./pair-command.ts')).pairCommand,
  audit: async () => (await import('./audit-command.ts')).auditCommand,
  'support-bundle': async () => (await import('./support-bundle-command.ts')).supportBundleCommand,
  runs: async () => (await import('./runs-command.ts')).runsCommand,
  playbooks: async () => (await import('./playbooks-command.ts')).playbooksCommand,
  lab: async () => (await import('./lab-command.ts')).labCommand,
  init: async () => (await import('./init-command.ts')).initCommand,
  completion: async () => (await import('./completion-command.ts')).completionCommand,
  __complete: async () => (await import('./complete-command.ts')).completeCommand,
};

export const isHiddenCommand = (name: string): boolean => name.startsWith('__');

// `casfleet … | head` closes our stdout early: stop quietly instead of crashing on EPIPE.
const exitOnClosedPipe = (error: NodeJS.ErrnoException): void => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
};

export const main = async (argv: readonly string[]): Promise<number> => {
  process.stdout.on('error', exitOnClosedPipe);
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command ? EXIT_OK : EXIT_USAGE;
  }
  if (command === '--version' || command === '-V') {
    const { packageInfo } = await import('../package-info.ts');
    process.stdout.write(`casfleet ${packageInfo().version}\n`);
    return EXIT_OK;
  }
  const load = COMMANDS[command];
  try {
    if (!load)
      throw new UsageError(
        `unknown command '${command}'; commands: ${Object.keys(COMMANDS)
          .filter((name) => !isHiddenCommand(name))
          .join(', ')} (see --help)`,
      );
    return await (await load())(rest);
  } catch (error) {
    if (isCasfleetError(error)) {
      process.stderr.write(`casfleet: ${error.message}\n`);
      return isSetupError(error) ? EXIT_USAGE : EXIT_HOST_FAILED;
    }
    process.stderr.write(`casfleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_HOST_FAILED;
  }
};
