// casfleet plan <playbook>: what apply would change on every selected host, grouped by identical
// change sets ("46 hosts: + allow …"). Connects and reads; changes nothing.

import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { onlyPositional, parseCommandLine } from './parse-options.ts';
import { fleetPlanJson, formatFleetPlan, planFleet, planHasProblems } from './plan-fleet.ts';
import { prepareRun, TARGET_HELP, TARGET_OPTIONS } from './prepare-run.ts';

export const PLAN_HELP = `Usage: casfleet plan <playbook> [-i INVENTORY] [options]

Connect to the selected hosts, read their state and show what 'apply' would change, with hosts
that would get identical changes grouped together. Nothing is changed.

Options:
${TARGET_HELP}

Exit codes: 0 planned on every host · 1 usage/config/validation error · 2 a host was unreachable or failed

Examples:
  casfleet plan scenario-a -i inventories/prod.yml
  casfleet plan scenario-b -i inventories/prod.yml -l canary -e hardwareVpnSubnets=10.8.0.0/24
  casfleet plan scenario-a -i inventories/prod.yml --json | jq '.groups[] | {kind, hosts}'
`;

export const planCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, TARGET_OPTIONS, 'plan');
  if (values.help) {
    process.stdout.write(PLAN_HELP);
    return EXIT_OK;
  }
  const reference = onlyPositional(positionals, "plan needs a playbook: 'casfleet plan scenario-a -i inventory.yml' (see --help)");
  const prepared = await prepareRun(reference, values, process.cwd());
  if (typeof prepared === 'number') return prepared;
  const groups = await planFleet(prepared);
  process.stdout.write(
    values.json
      ? `${JSON.stringify(fleetPlanJson(prepared.playbook.name, groups))}\n`
      : formatFleetPlan(prepared.playbook.name, groups, Boolean(values.verbose)),
  );
  return planHasProblems(groups) ? EXIT_HOST_FAILED : EXIT_OK;
};
