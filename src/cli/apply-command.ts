// casfleet apply <playbook> -i <inventory> [-l PATTERN] [-C] [-D] [-f N] [-e k=v]... [--json]
//   [--canary X] [--batches 1,5,20%] [--max-fail N] [--fleet-max-fail N] [--soak 5m] [--yes]
//   [--resume <run-id|last>] [--rollback-timeout 2m | --no-rollback] [--no-probe]
// Everything is validated before any host is contacted; a validation problem exits 1 and touches
// nothing. Every apply writes a run record, so a halted rollout can be resumed.

import { CONFIG_DEFAULTS } from '../config/config-schema.ts';
import { UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/host-pattern.ts';
import { patternFileReader } from '../inventory/host-pattern-file.ts';
import { secretExtraVarKeys } from '../playbook/secret-vars.ts';
import { hostFailed, type RunEvent } from '../report/events.ts';
import { approvalQuestionAfter, describeBudgets, describeRollout } from '../rollout/describe-rollout.ts';
import { readDurationMs } from '../rollout/duration.ts';
import { planRollout, type RolloutPlan } from '../rollout/plan-rollout.ts';
import { mergeRolloutPolicy, parseRolloutPolicy } from '../rollout/rollout-policy.ts';
import { type CanaryAnswer, runPlaybook } from '../run/run-playbook.ts';
import { currentController } from '../run-records/run-liveness.ts';
import { rolloutToRecord } from '../run-records/run-record.ts';
import { newRunRecord, resumeRun } from '../run-records/run-record-updates.ts';
import { prepareRunsDir } from '../run-records/run-store.ts';
import { canAsk, confirm } from './confirm.ts';
import { createReporter } from './create-reporter.ts';
import { EXIT_HOST_FAILED, EXIT_OK, EXIT_STOPPED } from './exit-codes.ts';
import { parseCommandLine, refuseExtraArguments } from './parse-options.ts';
import { formatFleetPlan, planFleet, planHasProblems, plannedHostCount } from './plan-fleet.ts';
import { type PreparedRun, prepareRun, TARGET_HELP, TARGET_OPTIONS } from './prepare-run.ts';
import { givenRolloutFlags, resumedRollout, resumeInputs } from './resume-input.ts';
import { createRecordKeeper } from './run-record-keeper.ts';

export const APPLY_HELP = `Usage: casfleet apply <playbook> [-i INVENTORY] [options]

Apply a playbook to the selected hosts: gather facts, plan, change only what differs.
<playbook> is a built-in name (scenario-a, scenario-b) or a path to a .ts playbook.
On a terminal, apply first shows the fleet-grouped plan and asks before changing anything.

Options:
${TARGET_HELP}
  -C, --check             connect and show what would change (grouped by identical changes); change nothing
  -D, --diff              show before/after of what each step manages
  -y, --yes               do not ask: neither before applying nor after the canary stage

Safety (see "Safety model" in the README):
      --rollback-timeout DURATION  a changed host must confirm its change over a NEW SSH login within
                          this long, or it restores its snapshot by itself (default 120s; 5s to 1h)
      --no-rollback       DANGEROUS: no snapshot, no dead-man, no confirmation; a change that locks
                          you out stays until someone reaches the host's console
      --no-probe          do not probe the declared ports from this machine after the apply (e.g.
                          when casfleet is not on the hosts' public path); gates skip them too

Rolling out (defaults may also come from the playbook's rollout):
      --canary X          first stage: a host pattern, N hosts or N% of the selection; asks before going on
      --batches LIST      then batches of these sizes, e.g. 1,5,20% (Ansible serial: the last size repeats)
      --max-fail N|N%     failures a stage may have; one more halts the rollout (default 0 with stages)
      --fleet-max-fail N|N%  failures the whole run may have
      --soak DURATION     wait between stages (30s, 5m, 1h)
      --continue-on-batch-failure  let batches go past their own budget (the canary and the fleet budget still halt)
      --resume ID|last    continue a halted run: done hosts are skipped, failed and untouched ones run

Every host that changes does so in a transaction: snapshot, on-host dead-man, steps, confirmation
over a new SSH connection; a failed step or a failed confirmation restores the snapshot ("rolled
back"). Once a host is done, the ports the playbook declares are probed from this machine. After each
stage, gates check every host again (a fresh read must plan no change). A failed gate, a failed probe
and a rollback all count as failures.

Exit codes: 0 all hosts fine · 1 usage/config/validation error (no host touched) ·
            2 a host failed, was rolled back or was unreachable · 3 stopped before the end (approval needed or declined)

Examples:
  casfleet apply scenario-a -i inventories/prod.yml
  casfleet apply scenario-a -i inventories/prod.yml --check --diff
  casfleet apply scenario-b -i inventories/prod.yml -l canary -e hardwareVpnSubnets=10.8.0.0/24
  casfleet apply scenario-a -i inventories/prod.yml --canary canary --batches 1,5,20% --max-fail 0
  casfleet apply scenario-a -i inventories/prod.yml --resume last --yes
  casfleet apply ./playbooks/my-playbook.ts -i hosts.ini --json > run.jsonl
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  yes: { type: 'boolean', short: 'y' },
  canary: { type: 'string' },
  batches: { type: 'string' },
  'max-fail': { type: 'string' },
  'fleet-max-fail': { type: 'string' },
  soak: { type: 'string' },
  'continue-on-batch-failure': { type: 'boolean' },
  resume: { type: 'string' },
  'rollback-timeout': { type: 'string' },
  'no-rollback': { type: 'boolean' },
  'no-probe': { type: 'boolean' },
} as const;

type ApplyValues = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];

// The rollout from the playbook's default and the flags (flags win field by field).
const rolloutFor = (prepared: PreparedRun, values: ApplyValues): RolloutPlan => {
  const policy = mergeRolloutPolicy(parseRolloutPolicy(prepared.playbook.rollout, prepared.playbook.name), {
    canary: values.canary,
    batches: values.batches,
    maxFail: values['max-fail'],
    fleetMaxFail: values['fleet-max-fail'],
    soak: values.soak,
    continueOnBatchFailure: values['continue-on-batch-failure'],
  });
  return planRollout({
    hosts: [...prepared.hosts],
    policy,
    resolveCanaryPattern: (pattern) => selectHosts(prepared.inventory, pattern, patternFileReader(process.cwd())),
  });
};

const MIN_ROLLBACK_MS = 5000;
const MAX_ROLLBACK_MS = 3_600_000;

/** The dead-man's delay the flags ask for: a duration, 'off' (--no-rollback), or undefined (the config's or the default). */
const rollbackFlag = (values: ApplyValues): number | 'off' | undefined => {
  const given = values['rollback-timeout'];
  if (values.check && (given !== undefined || values['no-rollback'])) {
    throw new UsageError('--check changes nothing, so there is nothing to roll back: drop --rollback-timeout / --no-rollback');
  }
  if (values['no-rollback']) {
    if (given !== undefined) throw new UsageError('--rollback-timeout and --no-rollback do not go together');
    return 'off';
  }
  if (given === undefined) return undefined;
  const ms = readDurationMs(given);
  if (ms === undefined || ms < MIN_ROLLBACK_MS || ms > MAX_ROLLBACK_MS) {
    throw new UsageError(`--rollback-timeout takes a duration from 5s to 1h (e.g. 120s, 2m), got '${given}'`);
  }
  return ms;
};

// --check: the fleet-grouped plan (and, with --diff, --json or -v, the per-host detail).
const runCheck = async (prepared: PreparedRun, values: ApplyValues): Promise<number> => {
  const reporter =
    values.diff || values.json || values.verbose
      ? await createReporter({ json: Boolean(values.json), verbose: Boolean(values.verbose) })
      : undefined;
  const groups = await planFleet(prepared, {
    diff: Boolean(values.diff),
    ...(reporter ? { emit: (event: RunEvent) => reporter.emit(event) } : {}),
  });
  await reporter?.finish();
  // With --diff the per-host detail above is the plan; otherwise end with the grouped summary.
  if (!values.json && !values.diff)
    process.stdout.write(`${reporter ? '\n' : ''}${formatFleetPlan(prepared.playbook.name, groups, Boolean(values.verbose))}`);
  return planHasProblems(groups) ? EXIT_HOST_FAILED : EXIT_OK;
};

export const applyCommand = async (argv: readonly string[]): Promise<number> => {
  const { values: given, positionals } = parseCommandLine(argv, OPTIONS, 'apply');
  if (given.help) {
    process.stdout.write(APPLY_HELP);
    return EXIT_OK;
  }
  const [positional, ...rest] = positionals;
  refuseExtraArguments(rest);
  if (!positional && !given.resume)
    throw new UsageError("apply needs a playbook: 'casfleet apply scenario-a -i inventory.yml' (see --help)");
  if (given.resume && given.check) throw new UsageError('--resume and --check do not go together: resume applies');

  const resumed = given.resume ? await resumeInputs(given, positional) : undefined;
  const values = resumed?.values ?? given;
  const reference = resumed?.reference ?? positional!;
  const cwd = resumed?.record.cwd ?? process.cwd();
  const rollback = rollbackFlag(values);
  const prepared = await prepareRun(reference, values, cwd);
  if (typeof prepared === 'number') return prepared;
  if (values.check) return runCheck(prepared, values);
  prepareRunsDir();
  const rollbackMs =
    rollback === 'off' ? undefined : (rollback ?? (prepared.config.rollbackTimeout ?? CONFIG_DEFAULTS.rollbackTimeout) * 1000);

  const plan = resumed ? resumedRollout(resumed.record) : rolloutFor(prepared, values);
  const toRun = new Set(plan.stages.flatMap((stage) => stage.hosts));
  const targets = prepared.targets.filter((target) => toRun.has(target.name));
  const staged = plan.stages.some((stage) => stage.kind !== 'all');
  const interactive = canAsk() && !values.yes && !values.json;

  if (interactive && !resumed) {
    const groups = await planFleet(prepared);
    process.stdout.write(formatFleetPlan(prepared.playbook.name, groups, Boolean(values.verbose)));
    if (staged) process.stdout.write(`rollout: ${describeRollout(plan)}; ${describeBudgets(plan)}\n`);
    const changing = plannedHostCount(groups);
    if (changing > 0 && !(await confirm(`apply these changes to ${changing} host${changing === 1 ? '' : 's'}? [y/N]`))) {
      process.stdout.write('nothing was changed\n');
      return EXIT_STOPPED;
    }
  }

  const now = new Date();
  const record = resumed
    ? resumeRun(resumed.record, currentController(), now)
    : newRunRecord(
        {
          playbook: { reference, name: prepared.playbook.name },
          inventory: prepared.inventory.source,
          ...(values.limit ? { limit: values.limit } : {}),
          extraVars: values['extra-vars'] ?? [],
          secretVars: secretExtraVarKeys(prepared.playbook, values['extra-vars'] ?? []),
          rolloutFlags: givenRolloutFlags(values),
          check: false,
          rollout: rolloutToRecord(plan),
          cwd,
          controller: currentController(),
        },
        now,
      );
  const keeper = createRecordKeeper(record, { transactions: rollbackMs !== undefined });
  const reporter = await createReporter({ json: Boolean(values.json), verbose: Boolean(values.verbose) });
  // Ctrl-C reaches this process twice when it runs inside a lab namespace (the terminal's signal and
  // the one the outer process forwards): record the interruption once, then exit.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) return;
    interrupted = true;
    void keeper.interrupt().finally(() => process.exit(130));
  };
  process.on('SIGINT', onInterrupt).on('SIGTERM', onInterrupt);

  const approveAfterCanary = async (stageIndex: number, passed: number): Promise<CanaryAnswer> => {
    if (values.yes) return 'continue';
    if (!canAsk()) return 'needs-approval';
    await reporter.suspend();
    const approved = await confirm(approvalQuestionAfter(plan, stageIndex, passed));
    reporter.resume();
    return approved ? 'continue' : 'declined';
  };

  let halted: 'approval' | 'budget' | 'declined' | undefined;
  const recap = await runPlaybook({
    playbook: prepared.playbook.name,
    targets,
    rollout: { plan, gates: staged, approveAfterCanary },
    options: {
      ...prepared.runOptions({ check: false, diff: Boolean(values.diff) }),
      ...(rollbackMs === undefined ? {} : { rollbackTimeoutMs: rollbackMs }),
      probe: !values['no-probe'],
    },
    connect: prepared.connect,
    emit: (event) => {
      if (event.type === 'halt') halted = event.kind;
      reporter.emit(event);
      keeper.emit(event);
    },
    // The host is on record as changing before anything on it changes.
    beforeFirstChange: () => keeper.writtenAhead(),
  });
  process.off('SIGINT', onInterrupt).off('SIGTERM', onInterrupt);
  await reporter.finish();
  const final = await keeper.finish();
  if (!values.json && final.status !== 'completed') {
    process.stdout.write(
      `\nrun ${final.id} ${final.status}; continue with: casfleet apply ${reference} -i ${prepared.inventory.source} --resume ${final.id}\n`,
    );
  }
  if (Object.values(recap).some(hostFailed)) return EXIT_HOST_FAILED;
  return halted === 'approval' || halted === 'declined' ? EXIT_STOPPED : EXIT_OK;
};
