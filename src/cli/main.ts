// casfleet's command dispatcher: subcommands, global help, and the mapping of errors to exit codes.

import { isCasfleetError, LabError, UsageError, ValidationError } from '../errors.ts';
import { applyCommand } from './apply-command.ts';
import { EXIT_HOST_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { inventoryCommand } from './inventory-command.ts';
import { labCommand } from './lab-command.ts';
import { playbooksCommand } from './playbooks-command.ts';

export const MAIN_HELP = `casfleet: typed, idempotent firewall and Scenario A/B changes for fleets of
General Bytes CAS servers, over SSH, Ansible-style.

Usage: casfleet <command> [options]

Commands:
  apply <playbook>   apply a playbook (scenario-a, scenario-b, or a .ts file) to inventory hosts
  inventory          show the hosts, groups and merged vars an inventory resolves to
  playbooks          list the built-in playbooks and their vars
  lab                the local lab fleet: lab up | lab status | lab probe | lab down

Run 'casfleet <command> --help' for a command's options and examples.

Examples:
  casfleet lab up --hosts 6
  casfleet apply scenario-a                    # the lab is the default inventory
  casfleet apply scenario-b -l canary -e hardwareVpnSubnets=10.8.0.0/24
  casfleet apply scenario-a -i inventories/prod.yml --check --diff
`;

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  apply: applyCommand,
  inventory: inventoryCommand,
  playbooks: playbooksCommand,
  lab: labCommand,
};

export const main = async (argv: readonly string[]): Promise<number> => {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command ? EXIT_OK : EXIT_USAGE;
  }
  if (command === '--version' || command === '-V') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`casfleet ${pkg.version}\n`);
    return EXIT_OK;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command '${command}'; commands: ${Object.keys(COMMANDS).join(', ')} (see --help)`);
    return await run(rest);
  } catch (error) {
    if (isCasfleetError(error)) {
      process.stderr.write(`casfleet: ${error.message}\n`);
      const isSetupError = error instanceof UsageError || error instanceof ValidationError || error instanceof LabError;
      return isSetupError ? EXIT_USAGE : EXIT_HOST_FAILED;
    }
    process.stderr.write(`casfleet: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_HOST_FAILED;
  }
};
