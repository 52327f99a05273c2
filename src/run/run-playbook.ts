// Runs a playbook over many hosts in parallel, stage by stage (the canary, then batches; without a
// rollout, one stage of every host), and turns everything into events. One SSH connection per host
// for its whole part of the run (plus the new one that confirms a host's transaction). Per host:
// steps and handlers inside a transaction (host-transaction.ts), then the declared exposure probed
// from here (for a host that changes nothing, while it runs). Within a stage hosts are independent;
// between stages the rollout checks gates and budgets: once a budget is exceeded no new host starts,
// hosts in flight finish, and every host never started is reported as untouched.

import pLimit from 'p-limit';
import type { Become } from '../command/shell.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import type { PortProbeResult } from '../net/probe.ts';
import type { PlaybookExposure, PlaybookItem } from '../playbook/define-playbook.ts';
import { classifyError, type ErrorInfo, errorInfo } from '../report/error-info.ts';
import { type EmitEvent, emptyCounts, type HostCounts, hostFailed } from '../report/events.ts';
import { evaluateStage } from '../rollout/budget.ts';
import { planRollout, type RolloutPlan } from '../rollout/plan-rollout.ts';
import type { Connection, ConnectOptions, ExecResult } from '../ssh/connection.ts';
import { type Handler, isFlushHandlers, type OpenWindow, type Step } from '../steps/step.ts';
import { touchedState } from '../transaction/touched-state.ts';
import { type HostRunOptions, runHost } from './host-pipeline.ts';
import { HostSession, type HostSessionOptions } from './host-session.ts';
import { type ArmedTransaction, beginTransaction, prepareTransaction, settleTransaction } from './host-transaction.ts';
import { describeError } from './plan-step.ts';
import { checkGate, describeProbe, judgeExposure, pendingChanges, probeExposurePorts } from './stage-gate.ts';

/** One host with everything needed to run the playbook on it. */
export interface HostTarget {
  readonly name: string;
  readonly connect: ConnectOptions;
  readonly become: Become;
  readonly items: readonly PlaybookItem[];
  readonly handlers: Readonly<Record<string, Handler>>;
  readonly exposure?: PlaybookExposure;
}

/** After the canary: go on, the operator said no, or nobody could be asked (no terminal, no --yes). */
export type CanaryAnswer = 'continue' | 'declined' | 'needs-approval';

export interface RunRollout {
  /** Stages and budgets, planned by src/rollout/ (a plain run is one stage without budgets). */
  readonly plan: RolloutPlan;
  /** Check gates after each stage (fresh re-read plans nothing, declared exposure holds). */
  readonly gates: boolean;
  /** Asked after the canary stage when more stages follow; anything but 'continue' stops the run there. */
  readonly approveAfterCanary: (stageIndex: number, passed: number) => Promise<CanaryAnswer>;
}

export interface RunOptions extends HostRunOptions {
  readonly forks: number;
  readonly gatherTimeoutMs: number;
  readonly applyTimeoutMs: number;
  /** Every host that changes does so in a transaction with this rollback deadline; absent: --no-rollback. */
  readonly rollbackTimeoutMs?: number;
  /** true: probe each host's declared exposure from here once it is done; false (--no-probe): not even in gates. */
  readonly probe?: boolean;
}

export interface RunPlaybookInput {
  readonly playbook: string;
  readonly targets: readonly HostTarget[];
  readonly rollout: RunRollout;
  readonly options: RunOptions;
  readonly connect: (options: ConnectOptions) => Promise<Connection>;
  readonly emit: EmitEvent;
  /** Awaited before a host's first change command, after its `changing` stage: the run record's write-ahead. */
  readonly beforeFirstChange?: (host: string) => Promise<void>;
}

/** A single stage of every target, no budgets, no gates: a plain run. */
export const singleStage = (targets: readonly HostTarget[]): RunRollout => ({
  plan: planRollout({ hosts: targets.map((target) => target.name) }),
  gates: false,
  approveAfterCanary: async () => 'continue',
});

interface HostOutcome {
  readonly startedAt: number;
  readonly counts: HostCounts;
  readonly session?: HostSession;
  readonly connection?: Connection;
  /** Its transaction was confirmed over a new connection that re-read it. */
  readonly confirmed?: boolean;
  /** Its exposure was probed after the apply. */
  readonly probed?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run every stage; resolves with the per-host counts (the recap), in target order. */
export const runPlaybook = async (input: RunPlaybookInput): Promise<Record<string, HostCounts>> => {
  const { targets, rollout, options, emit } = input;
  const byName = new Map(targets.map((target) => [target.name, target]));
  const results = new Map<string, HostCounts>();
  emit({ type: 'run-start', playbook: input.playbook, hosts: targets.map((t) => t.name), check: options.check });

  const { plan } = rollout;
  let failedTotal = 0;
  let halt: { reason: string; kind: 'budget' | 'approval' | 'declined' } | undefined;
  const limit = pLimit(Math.max(1, options.forks));

  for (const [position, stage] of plan.stages.entries()) {
    const stageTargets = stage.hosts.map((name) => byName.get(name)).filter((t): t is HostTarget => t !== undefined);
    if (stageTargets.length === 0) continue;
    emit({ type: 'stage', index: stage.index, kind: stage.kind, label: stage.label, status: 'start', hosts: stage.hosts });
    let failedInStage = 0;
    let gatesPassed = 0;
    const verdict = () => evaluateStage({ stage, failedInStage, failedSoFar: failedTotal, plan });

    // Hosts that wait for the stage's gate keep their connection; every other host is done (and its
    // connection closed) as soon as it finishes, so at most `forks` connections are open per phase.
    const finish = async (target: HostTarget, outcome: HostOutcome, counts: HostCounts): Promise<void> => {
      await outcome.connection?.close().catch(() => undefined);
      results.set(target.name, counts);
      emit({ type: 'host-end', host: target.name, counts, durationMs: Date.now() - outcome.startedAt });
    };
    const awaitingGate = await Promise.all(
      stageTargets.map((target) =>
        limit(async (): Promise<[HostTarget, HostOutcome] | undefined> => {
          if (verdict().halt) return undefined;
          const outcome = await runTarget(target, input);
          // Count a failure as soon as it happens so queued hosts of this stage stop starting.
          if (hostFailed(outcome.counts)) {
            failedInStage += 1;
            failedTotal += 1;
          }
          if (rollout.gates && !options.check && outcome.session && !hostFailed(outcome.counts)) return [target, outcome];
          await finish(target, outcome, outcome.counts);
          return undefined;
        }),
      ),
    );
    await Promise.all(
      awaitingGate
        .filter((entry): entry is [HostTarget, HostOutcome] => entry !== undefined)
        .map(([target, outcome]) =>
          limit(async () => {
            const counts = { ...outcome.counts };
            await runGate(target, outcome, counts, input);
            if (hostFailed(counts)) {
              failedInStage += 1;
              failedTotal += 1;
            } else gatesPassed += 1;
            await finish(target, outcome, counts);
          }),
        ),
    );

    const failed = stageTargets
      .filter((target) => results.has(target.name) && hostFailed(results.get(target.name)!))
      .map((target) => target.name);
    const started = stageTargets.filter((target) => results.has(target.name));
    const { halt: overBudget, reason, warning } = verdict();
    emit({
      type: 'stage',
      index: stage.index,
      kind: stage.kind,
      label: stage.label,
      status: 'done',
      hosts: stage.hosts,
      failed,
      ...(rollout.gates && !options.check ? { gatesPassed } : {}),
      ...(warning ? { warning } : {}),
    });
    const remaining = plan.stages.slice(position + 1).filter((next) => next.hosts.some((host) => byName.has(host)));
    if (overBudget) {
      halt = { kind: 'budget', reason: reason ?? `${stage.label}: over its failure budget` };
      break;
    }
    if (remaining.length === 0) break;
    if (stage.kind === 'canary' && !options.check) {
      const answer = await rollout.approveAfterCanary(position, started.length - failed.length);
      if (answer === 'declined') {
        halt = { kind: 'declined', reason: `stopped after ${stage.label}: not approved` };
        break;
      }
      if (answer === 'needs-approval') {
        halt = { kind: 'approval', reason: `stopped after ${stage.label}: continuing needs approval (a terminal, or --yes)` };
        break;
      }
    }
    if (plan.soakMs > 0 && !options.check) {
      emit({
        type: 'stage',
        index: stage.index,
        kind: stage.kind,
        label: stage.label,
        status: 'soak',
        hosts: stage.hosts,
        soakMs: plan.soakMs,
      });
      await sleep(plan.soakMs);
    }
  }

  const untouched = targets.filter((target) => !results.has(target.name)).map((target) => target.name);
  for (const name of untouched) results.set(name, { ...emptyCounts(), untouched: 1 });
  if (halt) emit({ type: 'halt', reason: halt.reason, kind: halt.kind, untouched });
  const recap: Record<string, HostCounts> = {};
  for (const target of targets) recap[target.name] = results.get(target.name)!;
  emit({ type: 'recap', hosts: recap });
  return recap;
};

const runGate = async (target: HostTarget, outcome: HostOutcome, counts: HostCounts, input: RunPlaybookInput): Promise<void> => {
  const { emit } = input;
  const begun = Date.now();
  let problems: string[];
  try {
    problems = await checkGate({
      session: outcome.session!,
      address: target.connect.host,
      items: target.items,
      openFresh: () => input.connect(target.connect),
      ...(target.exposure ? { exposure: target.exposure } : {}),
      confirmed: outcome.confirmed === true,
      skipProbe: outcome.probed === true || input.options.probe === false,
    });
  } catch (error) {
    problems = [error instanceof Error ? error.message : String(error)];
  }
  const status = problems.length === 0 ? 'ok' : 'failed';
  if (status === 'failed') counts.failed += 1;
  emit({
    type: 'step',
    host: target.name,
    step: 'gate: verify',
    kind: 'gate',
    status,
    changes: [],
    ...(problems.length > 0 ? { error: errorInfo('verify', problems.join('; ')) } : { reason: 'nothing pending; exposure as declared' }),
    check: false,
    durationMs: Date.now() - begun,
  });
};

const DEFAULT_READY_TIMEOUT_MS = 15_000;

/**
 * The SSH port is proven to answer from here when a connection dialled from here straight to it
 * logged in after the host's last change: this run's own connection when nothing changed, or the
 * transaction's confirming login. Probing it again would cost the host a whole sshd start (a fork
 * and re-exec per accepted connection, about a third of a no-op run's CPU there).
 */
const provenPorts = (target: HostTarget, counts: HostCounts, confirmed: boolean): readonly number[] =>
  (target.connect.jump?.length ?? 0) === 0 && (counts.changed === 0 || confirmed) ? [target.connect.port] : [];

const withoutProven = (exposure: PlaybookExposure, proven: readonly number[]): PlaybookExposure => ({
  ...exposure,
  reachable: exposure.reachable.filter((port) => !proven.includes(port)),
});

/**
 * A probe of the ports not `proven`, started now (at the host's turn: probePorts). It is awaited only
 * when the host is probed at all, and a failure is reported from there.
 */
const startProbe = (target: HostTarget, exposure: PlaybookExposure, proven: readonly number[]): StartedProbe => {
  const probed = withoutProven(exposure, proven);
  const results = probeExposurePorts(target.connect.host, probed);
  results.catch(() => undefined);
  return { begun: Date.now(), proven, probed, results };
};

interface StartedProbe {
  readonly begun: number;
  /** The ports a login proved, left out of the probe. */
  readonly proven: readonly number[];
  /** The exposure without them: what the probe asks for. */
  readonly probed: PlaybookExposure;
  readonly results: Promise<PortProbeResult[]>;
}

// The host is done and did not fail: does it look from here the way the playbook declares?
const probeAfterApply = async (
  target: HostTarget,
  session: HostSession,
  exposure: PlaybookExposure,
  probe: StartedProbe,
  counts: HostCounts,
  emit: EmitEvent,
): Promise<void> => {
  emit({ type: 'host-stage', host: target.name, stage: 'probing' });
  const { proven } = probe;
  let problems: string[];
  let seen = '';
  try {
    const steps = target.items.filter((item): item is Step => !isFlushHandlers(item));
    const results = await probe.results;
    // The windows judgeExposure asked for (only when a blocked port answered), for the line below.
    let windows: readonly OpenWindow[] = [];
    problems = await judgeExposure(probe.probed, results, async () => {
      windows = (await pendingChanges(session, steps)).openWindows;
      return windows;
    });
    seen = describeProbe(exposure, results, proven, windows);
  } catch (error) {
    problems = [describeError(error)];
  }
  if (problems.length > 0) counts.failed += 1;
  emit({
    type: 'step',
    host: target.name,
    step: 'probe from outside',
    kind: 'probe',
    status: problems.length > 0 ? 'failed' : 'ok',
    changes: [],
    ...(problems.length > 0
      ? { error: errorInfo('probe', `exposed differently than the playbook declares: ${problems.join('; ')}`) }
      : { reason: seen }),
    check: false,
    durationMs: Date.now() - probe.begun,
  });
};

// Connect and run the steps (in a transaction when the host changes), then probe from outside; the
// connection stays open for the stage's gate and is closed by the caller.
const runTarget = async (target: HostTarget, input: RunPlaybookInput): Promise<HostOutcome> => {
  const { emit, options } = input;
  const startedAt = Date.now();
  const probing = options.probe === true && !options.check && target.exposure !== undefined;
  // A host that changes nothing looks the same from outside before and after its run, so its probe
  // starts with the run: a filtered port takes the probe's whole timeout (1.5 s), which then passes
  // while the host connects and is read. Its result counts only if the host indeed changed nothing.
  const unchangedProbe = probing ? startProbe(target, target.exposure!, provenPorts(target, emptyCounts(), false)) : undefined;
  emit({ type: 'host-stage', host: target.name, stage: 'connecting' });
  let connection: Connection;
  try {
    connection = await input.connect(target.connect);
  } catch (error) {
    emit({ type: 'unreachable', host: target.name, error: classifyError(error, 'connect') });
    return { startedAt, counts: { ...emptyCounts(), unreachable: 1 } };
  }
  const sessionOptions: HostSessionOptions = {
    become: target.become,
    gatherTimeoutMs: options.gatherTimeoutMs,
    applyTimeoutMs: options.applyTimeoutMs,
  };
  const session = new HostSession(connection, sessionOptions);
  try {
    const { rollbackTimeoutMs } = options;
    let armed: ArmedTransaction | undefined;
    let failure: ErrorInfo | undefined;
    // The first failure once the transaction is open is what the rollback reports as its cause.
    const watch: EmitEvent = (event) => {
      if (armed && failure === undefined && event.type === 'step' && event.status === 'failed') {
        failure = errorInfo(event.error?.kind ?? 'apply', `'${event.step}' failed: ${(event.error?.message ?? 'failed').split('\n')[0]}`);
      }
      emit(event);
    };
    const start =
      rollbackTimeoutMs === undefined ? undefined : prepareTransaction(touchedState(target.items, target.handlers), rollbackTimeoutMs);
    const transaction =
      start === undefined
        ? undefined
        : {
            command: start.command,
            begin: async (run: () => Promise<ExecResult>) => {
              armed = await beginTransaction(session, start, run);
            },
          };
    const facts = new Map<string, FactOutcome>();
    const counts = await runHost({
      facts,
      host: target.name,
      items: target.items,
      handlers: target.handlers,
      session,
      options,
      emit: watch,
      ...(transaction ? { transaction } : {}),
      ...(input.beforeFirstChange ? { beforeFirstChange: () => input.beforeFirstChange!(target.name) } : {}),
    });
    // A changed host looks from outside as it will stay once its changes are over (a confirmation
    // only reads and disarms), so its probe starts now and waits out the filtered ports while the
    // confirmation logs in. It counts on the confirming login to prove the SSH port: a host whose
    // confirmation fails is failed, and a failed host is not probed.
    const changedProbe =
      probing && counts.changed > 0 && !hostFailed(counts)
        ? startProbe(target, target.exposure!, provenPorts(target, counts, armed !== undefined))
        : undefined;
    let confirmed = false;
    if (armed) {
      const readyTimeoutMs = target.connect.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
      await settleTransaction({
        host: target.name,
        armed,
        session,
        sessionOptions,
        connectFresh: (timeoutMs) => input.connect({ ...target.connect, readyTimeoutMs: timeoutMs ?? readyTimeoutMs }),
        readyTimeoutMs,
        steps: target.items.filter((item): item is Step => !isFlushHandlers(item)),
        facts,
        ...(failure === undefined ? {} : { failure }),
        counts,
        emit,
      });
      confirmed = !hostFailed(counts);
    }
    const probe = counts.changed === 0 ? unchangedProbe : changedProbe;
    const probed = probe !== undefined && !hostFailed(counts);
    if (probed) await probeAfterApply(target, session, target.exposure!, probe, counts, emit);
    return { startedAt, counts, session, connection, confirmed, probed };
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
};
