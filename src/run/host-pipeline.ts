// Everything casfleet does to one host once connected: gather every fact the steps need in one
// exec, then per step plan (pure) → apply only the needed changes → re-read → plan again (a step
// has converged only when the second plan is empty). Handlers run once, after the steps or at a
// flush point, only when a step that notifies them changed something; they also run after a later
// step failed, so a changed config file is never left without its service restart — unless a
// transaction is open, whose rollback restores the files and restarts instead. A failed handler
// stops the host's later steps, as a failed step does.
//
// When the host will change at all, the transaction (if any) begins before the first change: the
// snapshot and the dead-man (run/host-transaction.ts). A host it cannot begin on stays untouched, as
// does a host where a handler that a change would notify cannot run (its preflight, whose facts are
// read with the gather).

import { type RemoteCommand, sh } from '../command/shell.ts';
import type { ChangeStdin } from '../command/stdin-parts.ts';
import { hostWorkTurn } from '../event-loop-turn.ts';
import type { AnyFact } from '../facts/fact.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import type { PlaybookItem } from '../playbook/define-playbook.ts';
import { classifyError, type ErrorInfo, errorInfo, withMessage } from '../report/error-info.ts';
import { countStep, type EmitEvent, emptyCounts, type HostCounts, type StepResultEvent } from '../report/events.ts';
import type { ExecResult } from '../ssh/connection.ts';
import { type Handler, isFlushHandlers, type Step, type StepPlan } from '../steps/step.ts';
import type { HeldGather, HostSession } from './host-session.ts';
import { factsOf, factValues, planStep, uniqueFacts } from './plan-step.ts';
import { pauseAt } from './test-pause.ts';

export interface HostRunOptions {
  readonly check: boolean;
  readonly diff: boolean;
}

export interface HostRunInput {
  readonly host: string;
  readonly items: readonly PlaybookItem[];
  readonly handlers: Readonly<Record<string, Handler>>;
  readonly session: HostSession;
  readonly options: HostRunOptions;
  readonly emit: EmitEvent;
  /**
   * The transaction of a non-check run: `command` begins it (snapshot and dead-man), run by the
   * gather's exec once the plan says the host changes (HostSession.gatherHeld), which then stays open
   * for the host's changes (HostSession.apply); `begin` gets what sends it, before the first change;
   * throwing stops the host untouched.
   */
  readonly transaction?: {
    readonly command: RemoteCommand;
    readonly begin: (run: () => Promise<ExecResult>) => Promise<void>;
  };
  /**
   * Awaited after the `changing` stage is emitted, before the host's first change command is sent:
   * whoever records the run writes the host down as changing first, so a run that dies mid-command
   * (SIGKILL, a crash) leaves a record that does not say untouched.
   */
  readonly beforeFirstChange?: () => Promise<void>;
  /** Where the host's facts are kept as last read (gathered, then re-read after each change): the transaction's confirmation plans from them. */
  readonly facts?: Map<string, FactOutcome>;
}

/** The gather's follow-up when there is no transaction to begin: the exec only stays for the changes. */
const BEGIN_NOTHING = sh`:`;

/** The step name under which a transaction that cannot begin is reported. */
export const BEGIN_STEP = 'transaction: snapshot and dead-man';

/** Around every change command a step or handler sends (test pauses, the write-ahead). */
interface CommandHooks {
  readonly beforeCommand: () => Promise<void>;
  readonly afterCommand: () => Promise<void>;
}

type StepOutcome = Omit<StepResultEvent, 'type' | 'host' | 'step' | 'kind' | 'check' | 'durationMs'>;

const NO_PLAN = errorInfo('plan', 'no plan');

const untouched = (error: ErrorInfo): ErrorInfo => withMessage(error, (message) => `${message} (nothing was changed on this host)`);

// A re-plan that fails after the change is a verification failure, unless it is a bug in the planner.
const afterApplying = (error: ErrorInfo): ErrorInfo => ({
  ...withMessage(error, (message) => `after applying: ${message}`),
  kind: error.kind === 'internal' ? 'internal' : 'verify',
});

export const runHost = async (input: HostRunInput): Promise<HostCounts> => {
  try {
    return await runSteps(input);
  } finally {
    // The changes are over: the gather's exec, kept open for them, ends (a confirmation logs in anew).
    await input.session.endChain();
  }
};

const runSteps = async (input: HostRunInput): Promise<HostCounts> => {
  const { host, items, handlers, session, options, emit, transaction, beforeFirstChange } = input;
  const counts = emptyCounts();
  const report = (step: string, kind: StepResultEvent['kind'], startedAt: number, outcome: StepOutcome): void => {
    countStep(counts, outcome.status);
    emit({ type: 'step', host, step, kind, check: options.check, durationMs: Date.now() - startedAt, ...outcome });
  };

  const steps = items.filter((item): item is Step => !isFlushHandlers(item));
  /** The host stops before its first change: what failed, then every other step skipped with why. */
  const stopBeforeChanges = (
    failed: { readonly name: string; readonly kind: StepResultEvent['kind']; readonly begun: number; readonly error: ErrorInfo },
    reason: string,
    failedStep?: Step,
  ): HostCounts => {
    report(failed.name, failed.kind, failed.begun, { status: 'failed', changes: [], error: failed.error });
    for (const step of steps) if (step !== failedStep) report(step.name, 'step', Date.now(), { status: 'skipped', changes: [], reason });
    return counts;
  };
  // Handlers read their own facts right after they run (batm-manage info can be slow, and only
  // matters then); their preflight facts are cheap by contract and come with the steps' facts, so a
  // host about to change needs no exec more to learn whether its handlers could run.
  const wanted = uniqueFacts([...steps.flatMap((step) => factsOf(step.facts)), ...preflightFacts(steps, handlers)]);
  emit({ type: 'host-stage', host, stage: 'gathering' });
  const startedAt = Date.now();
  const cache = input.facts ?? new Map<string, FactOutcome>();
  /**
   * The gather's exec, waiting for the plan: to begin the transaction (without one, nothing) and stay
   * open for the changes, or to end (answered on every path).
   */
  let held: HeldGather<'begin'> | undefined;
  try {
    if (!options.check) held = await session.gatherHeld(wanted, { begin: transaction?.command ?? BEGIN_NOTHING }, 'begin');
    for (const [id, outcome] of held ? held.facts : await session.gather(wanted)) cache.set(id, outcome);
  } catch (error) {
    return stopBeforeChanges(
      { name: 'gather facts', kind: 'step', begun: startedAt, error: classifyError(error, 'fact') },
      'facts could not be gathered',
    );
  }
  let open = false;
  try {
    await pauseAt('after-facts', host);
    // Planning (and reporting the steps that need no change) is a turn of its own, apart from parsing
    // the gather: together they made the first host's answer the run's longest task.
    await hostWorkTurn();

    const blocked = firstUnplannable(steps, cache);
    if (blocked) {
      return stopBeforeChanges(
        { name: blocked.step.name, kind: 'step', begun: startedAt, error: untouched(blocked.error) },
        `not started: '${blocked.step.name}' cannot be planned`,
        blocked.step,
      );
    }

    const changing = steps.filter((step) => (planStep(step, cache).plan?.changes.length ?? 0) > 0);
    const refused = firstRefusedHandler(changing, handlers, cache);
    if (refused) {
      return stopBeforeChanges(
        { name: refused.name, kind: 'handler', begun: startedAt, error: untouched(refused.error) },
        `not started: handler '${refused.name}' could not run`,
      );
    }

    const waiting = held;
    // Without a transaction the changes still share the gather's exec; one that cannot stay open
    // (the host stopped waiting) leaves each change an exec of its own.
    if (waiting && !transaction && changing.length > 0) await waiting.answer('begin').catch(() => undefined);
    else if (waiting && transaction && changing.length > 0) {
      open = true;
      const begun = Date.now();
      try {
        await transaction.begin(() => waiting.answer('begin'));
      } catch (error) {
        return stopBeforeChanges(
          { name: BEGIN_STEP, kind: 'transaction', begun, error: untouched(classifyError(error, 'apply')) },
          'the transaction could not begin',
        );
      }
    }
  } finally {
    // Unless the changes begin, the gather's exec ends running nothing more.
    await held?.answer().catch(() => undefined);
  }

  const notified: string[] = [];
  let failedAt: string | undefined;
  let changedYet = false;
  let firewallLoaded = false;
  let commandsSent = 0;
  const beforeCommand = async (): Promise<void> => {
    if (commandsSent === 0 && !options.check) {
      emit({ type: 'host-stage', host, stage: 'changing' });
      await beforeFirstChange?.();
    }
    if (commandsSent++ === 1 && !options.check) await pauseAt('between-changes', host);
  };
  const afterCommand = async (): Promise<void> => {
    if (commandsSent === 1 && !options.check) await pauseAt('change-sent', host);
  };

  const runHandlers = async (): Promise<void> => {
    const due = notified.splice(0);
    if (due.length > 0) emit({ type: 'host-stage', host, stage: 'handlers' });
    for (const name of due) {
      const handler = handlers[name];
      const begun = Date.now();
      // A defence only: every notify name was checked against the handlers before any connection
      // (playbook/host-playbook.ts), so a run from the CLI never gets here without its handler.
      const outcome: StepOutcome = handler
        ? await runHandler(handler, session, cache, options.check, { beforeCommand, afterCommand })
        : { status: 'failed', changes: [], error: errorInfo('plan', `no handler named '${name}' in the playbook`) };
      report(name, 'handler', begun, outcome);
      if (outcome.status === 'failed') failedAt ??= `handler '${name}'`;
    }
  };

  emit({ type: 'host-stage', host, stage: 'applying' });
  for (const item of items) {
    if (isFlushHandlers(item)) {
      if (failedAt === undefined && notified.length > 0) {
        await runHandlers();
        emit({ type: 'host-stage', host, stage: 'applying' });
      }
      continue;
    }
    const begun = Date.now();
    if (failedAt !== undefined) {
      report(item.name, 'step', begun, { status: 'skipped', changes: [], reason: `host failed at ${failedAt}` });
      continue;
    }
    const outcome = await runStep(item, session, cache, options, { beforeCommand, afterCommand });
    report(item.name, 'step', begun, outcome);
    if (outcome.status === 'failed') failedAt = `'${item.name}'`;
    if (outcome.status === 'changed') {
      for (const name of item.notify ?? []) if (!notified.includes(name)) notified.push(name);
      if (!changedYet && !options.check) await pauseAt('after-change', host);
      changedYet = true;
      if (item.touches?.firewall && !firewallLoaded && !options.check) {
        firewallLoaded = true;
        await pauseAt('after-firewall-load', host);
      }
    }
  }
  if (open && failedAt !== undefined) {
    for (const name of notified.splice(0))
      report(name, 'handler', Date.now(), { status: 'skipped', changes: [], reason: 'the transaction rolls back instead' });
  } else {
    await runHandlers();
  }
  emit({ type: 'host-stage', host, stage: 'done' });
  return counts;
};

/**
 * Before changing anything, every step must be plannable from what was read, so a step that can
 * never reach its state (no backup to restore, no SSH allow, no public interface) stops the host
 * untouched instead of after earlier steps changed it. A step that reads facts an earlier step is
 * about to change is judged when its turn comes instead.
 */
const firstUnplannable = (
  steps: readonly Step[],
  cache: ReadonlyMap<string, FactOutcome>,
): { step: Step; error: ErrorInfo } | undefined => {
  const changing = new Set<string>();
  for (const step of steps) {
    const ids = factsOf(step.facts).map((fact) => fact.id);
    const { plan, error } = planStep(step, cache);
    if (!plan && !ids.some((id) => changing.has(id))) return { step, error: error ?? NO_PLAN };
    if (plan && plan.changes.length > 0) for (const id of ids) changing.add(id);
  }
  return undefined;
};

/** The preflights of the handlers `steps` notify, each once. */
const duePreflights = (
  steps: readonly Step[],
  handlers: Readonly<Record<string, Handler>>,
): readonly { readonly name: string; readonly preflight: NonNullable<Handler['preflight']> }[] =>
  [...new Set(steps.flatMap((step) => step.notify ?? []))].flatMap((name) => {
    const preflight = handlers[name]?.preflight;
    return preflight ? [{ name, preflight }] : [];
  });

const preflightFacts = (steps: readonly Step[], handlers: Readonly<Record<string, Handler>>): readonly AnyFact[] =>
  duePreflights(steps, handlers).flatMap(({ preflight }) => factsOf(preflight.facts));

/**
 * The first handler a changing step notifies whose preflight fails, with why. Only handlers a
 * change will notify are checked: a run that changes nothing is not stopped by a handler it would
 * never run.
 */
const firstRefusedHandler = (
  changing: readonly Step[],
  handlers: Readonly<Record<string, Handler>>,
  cache: ReadonlyMap<string, FactOutcome>,
): { name: string; error: ErrorInfo } | undefined => {
  for (const { name, preflight } of duePreflights(changing, handlers)) {
    const { values, error } = factValues(preflight.facts, cache);
    if (!values) return { name, error: error ?? errorInfo('fact', 'facts missing') };
    const problem = preflight.check(values as never);
    if (problem !== undefined) return { name, error: errorInfo('plan', problem) };
  }
  return undefined;
};

const runStep = async (
  step: Step,
  session: HostSession,
  cache: Map<string, FactOutcome>,
  options: HostRunOptions,
  hooks: CommandHooks,
): Promise<StepOutcome> => {
  const first = planStep(step, cache);
  if (!first.plan) return { status: 'failed', changes: [], error: first.error ?? NO_PLAN };
  const { plan } = first;
  const shown = {
    ...(plan.warnings?.length ? { warnings: plan.warnings } : {}),
    ...(options.diff && plan.diff ? { diff: plan.diff } : {}),
  };
  const summaries = plan.changes.map((change) => change.summary);
  if (plan.changes.length === 0) return { status: 'ok', changes: [], reason: plan.noop ?? 'no change needed', ...shown, ...stateOf(plan) };
  if (options.check) return { status: 'changed', changes: summaries, ...shown };

  const runnable = plan.changes.filter((change) => change.command.script.trim() !== '');
  const refetch = factsOf(step.facts);
  for (const [index, change] of runnable.entries()) {
    const isLast = index === runnable.length - 1;
    await hooks.beforeCommand();
    const failure = await applyAndReread(session, change.command, change.stdin, isLast ? refetch : [], cache);
    await hooks.afterCommand();
    if (failure?.thrown) return { status: 'failed', changes: summaries, error: failure.thrown, ...shown };
    if (failure)
      return {
        status: 'failed',
        changes: summaries,
        error: errorInfo('apply', `'${change.summary}' failed (${failure.why})${failure.output}`),
        ...shown,
      };
  }

  const second = planStep(step, cache);
  if (!second.plan) return { status: 'failed', changes: summaries, error: afterApplying(second.error ?? NO_PLAN), ...shown };
  if (second.plan.changes.length > 0) {
    return {
      status: 'failed',
      changes: summaries,
      error: errorInfo(
        'verify',
        `the host did not reach the desired state; still to change: ${second.plan.changes.map((c) => c.summary).join('; ')}`,
      ),
      ...shown,
      ...stateOf(second.plan),
    };
  }
  return { status: 'changed', changes: summaries, ...shown, ...stateOf(second.plan) };
};

// The state as read (before a check-mode change it would be stale, so it comes from a plan of the
// host as it is: the first plan when nothing changes, the re-plan after applying).
const stateOf = (plan: StepPlan): Pick<StepOutcome, 'state'> => (plan.state ? { state: plan.state } : {});

const runHandler = async (
  handler: Handler,
  session: HostSession,
  cache: Map<string, FactOutcome>,
  check: boolean,
  hooks: CommandHooks,
): Promise<StepOutcome> => {
  const summary = [`run: ${handler.command.display}`];
  if (check) return { status: 'changed', changes: summary };
  await hooks.beforeCommand();
  const failure = await applyAndReread(session, handler.command, undefined, factsOf(handler.facts), cache);
  await hooks.afterCommand();
  if (failure)
    return { status: 'failed', changes: summary, error: failure.thrown ?? errorInfo('apply', `${failure.why}${failure.output}`) };
  const { values, error } = factValues(handler.facts, cache);
  const problem = values ? handler.check(values as never) : undefined;
  if (problem !== undefined) return { status: 'failed', changes: summary, error: errorInfo('verify', problem) };
  return error ? { status: 'failed', changes: summary, error } : { status: 'changed', changes: summary };
};

const tail = (text: string): string => text.trim().split('\n').slice(-5).join(' | ');

/** Why a command failed: it could not run at all (`thrown`), or its exit status and last output. */
type ApplyFailure =
  | { readonly thrown: ErrorInfo; readonly why?: never; readonly output?: never }
  | { readonly thrown?: never; readonly why: string; readonly output: string };

/**
 * Run one command and merge the facts re-read in the same exec into the cache (also after a
 * failure: they are the host's real state). Resolves with the failure, or undefined.
 */
const applyAndReread = async (
  session: HostSession,
  command: RemoteCommand,
  stdin: ChangeStdin | undefined,
  refetch: readonly AnyFact[],
  cache: Map<string, FactOutcome>,
): Promise<ApplyFailure | undefined> => {
  let result: Awaited<ReturnType<typeof session.apply>>;
  try {
    result = await session.apply(command, stdin, refetch);
  } catch (error) {
    return { thrown: classifyError(error, 'apply') };
  }
  for (const [id, outcome] of result.facts) cache.set(id, outcome);
  if (result.status === 0) return undefined;
  return {
    why: result.status === null ? 'its exit status was lost' : `exit ${result.status}`,
    output: result.output ? `: ${tail(result.output)}` : '',
  };
};
