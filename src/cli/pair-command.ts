// casfleet pair <pattern> [-i INVENTORY] [--for DURATION | --close | --status] [--json]
// The pairing window: 7741 open on the selected hosts for a while, closed again by a timer on each
// host (src/cas/pairing-window.ts). It runs through the same runner as apply (connections, forks,
// lab namespace, validation first); only the output is its own: one line per host.

import { PAIRING_STEP, type PairingRequest, pairingPlaybook } from '../cas/pairing-window.ts';
import { UsageError } from '../errors.ts';
import { hostFailed } from '../report/events.ts';
import { createPairingCollector, formatPairing, pairingJsonLines } from '../report/pairing-report.ts';
import { formatDuration, readDurationMs } from '../rollout/duration.ts';
import { runPlaybook, singleStage } from '../run/run-playbook.ts';
import { outputStyle } from './create-reporter.ts';
import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { onlyPositional, parseCommandLine } from './parse-options.ts';
import { prepareRun, TARGET_HELP, TARGET_OPTIONS } from './prepare-run.ts';

const DEFAULT_SECONDS = 15 * 60;
// Longer than this is not a window: keep 7741 open with scenario-a's `pairing: true` instead.
const MAX_SECONDS = 24 * 3600;

// The pattern is the positional argument; -l has no second meaning here.
const { limit: _limit, ...SELECTION } = TARGET_OPTIONS;
const SELECTION_HELP = TARGET_HELP.split('\n')
  .filter((line) => !line.startsWith('  -l,'))
  .join('\n');

export const PAIR_HELP = `Usage: casfleet pair <pattern> [-i INVENTORY] [--for DURATION | --close | --status] [options]

Open the gate port 7741 on the selected hosts so new or factory-reset terminals can pair, and
close it again by itself: a timer on each host writes Scenario A's deny back when the window is
over, whether or not casfleet (or this machine) still runs. The timer is armed before the port
opens. Hosts must be under Scenario A's rules (apply scenario-a first); on a Scenario B host 7741
already comes through the hardware VPN, so there is nothing to open. A scenario-a run during a
window leaves it open; after the window nothing of it remains.

<pattern> selects hosts as -l does for apply: names, groups, globs (cas-0*), a:b, a,b, &grp, !grp, ~regex, @file

Options:
      --for DURATION      how long the window stays open (default ${formatDuration(DEFAULT_SECONDS * 1000)}; 30s, 5m, 1h; at most 24h);
                          asked again while a window is open, it moves the close time to DURATION from
                          now when that is more than a minute later
      --close             close the window now (and disarm its timer)
      --status            show where a window is open and when it closes; changes nothing
${SELECTION_HELP}

Output: one line per host (opened until T, already open until T, closed, nothing to open
(scenario B), failed: why); --json prints one object per host instead, e.g.
  {"type":"pairing","host":"cas-001","action":"open","outcome":"opened","window":"open",
   "until":"2026-11-30T15:05:12Z","remainingSeconds":900,"closing":"timer","changes":[…]}

Exit codes: 0 every host fine · 1 usage/config/validation error (no host touched) ·
            2 a host failed or was unreachable

Examples:
  casfleet pair cas-007 -i inventories/prod.yml                 # open for ${formatDuration(DEFAULT_SECONDS * 1000)}
  casfleet pair canary -i inventories/prod.yml --for 5m
  casfleet pair all -i inventories/prod.yml --status
  casfleet pair cas-007 -i inventories/prod.yml --close
`;

const OPTIONS = {
  ...SELECTION,
  for: { type: 'string' },
  close: { type: 'boolean' },
  status: { type: 'boolean' },
} as const;

const requestFrom = (values: { for?: string | undefined; close?: boolean | undefined; status?: boolean | undefined }): PairingRequest => {
  if (values.close && values.status) throw new UsageError('--close and --status do not go together');
  if (values.for !== undefined && (values.close || values.status))
    throw new UsageError(`--for does not go with --${values.close ? 'close' : 'status'}`);
  if (values.close) return { action: 'close' };
  if (values.status) return { action: 'status' };
  if (values.for === undefined) return { action: 'open', seconds: DEFAULT_SECONDS };
  const ms = readDurationMs(values.for);
  if (ms === undefined || ms < 1000)
    throw new UsageError(`--for takes a duration of at least 1s such as 30s, 15m or 1h, got '${values.for}'`);
  const seconds = Math.ceil(ms / 1000);
  if (seconds > MAX_SECONDS)
    throw new UsageError(`--for ${values.for} is longer than 24h: to keep 7741 open, apply scenario-a with -e pairing=true`);
  return { action: 'open', seconds };
};

export const pairCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'pair');
  if (values.help) {
    process.stdout.write(PAIR_HELP);
    return EXIT_OK;
  }
  const pattern = onlyPositional(positionals, "pair needs a host pattern: 'casfleet pair cas-007 -i inventory.yml' (see --help)");
  const request = requestFrom(values);

  const prepared = await prepareRun(pairingPlaybook(request), { ...values, limit: pattern }, process.cwd());
  if (typeof prepared === 'number') return prepared;
  const collector = createPairingCollector(PAIRING_STEP);
  const recap = await runPlaybook({
    playbook: prepared.playbook.name,
    targets: prepared.targets,
    rollout: singleStage(prepared.targets),
    // --status only reads: check mode guarantees it.
    options: prepared.runOptions({ check: request.action === 'status', diff: false }),
    connect: prepared.connect,
    emit: (event) => collector.emit(event),
  });
  const results = collector.results(prepared.hosts);
  process.stdout.write(
    values.json
      ? pairingJsonLines(request.action, results)
      : formatPairing(request.action, results, outputStyle(), Boolean(values.verbose)),
  );
  return Object.values(recap).some(hostFailed) ? EXIT_HOST_FAILED : EXIT_OK;
};
