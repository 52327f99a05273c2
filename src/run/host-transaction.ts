// A firewall-changing apply on one host is a transaction (DESIGN §8):
//
//   begin:   snapshot what the steps declare they touch + arm the on-host dead-man, run by the
//            gather's own exec once the plan says the host changes (HostSession.gatherHeld)
//   … steps and handlers (host-pipeline.ts), each change refused on the host once the dead-man has
//     fired: a command that stalled in the network past the deadline must not land on the restore;
//     a dead-man that fires while a change runs restores after it …
//   settle:  a step or handler failed        → fire the rollback now, over the run's connection
//            otherwise                       → confirm: a NEW connection (TCP, key exchange, login, as
//                                              the operator's next session) re-reads the live filter
//                                              tables, then disarms the dead-man, in the same exec
//            no new login / casfleet gone    → the host restores the snapshot by itself when the
//                                              dead-man fires; casfleet (if alive) waits for that,
//                                              logs in again and reads what the restore did
//
// The established connection proves nothing: it survives a firewall that refuses every new login.
// Each host's deadline runs from its own arm, and hosts confirm in parallel (each on its own
// connection). A rolled-back host is reported with its own status and the reason.
//
// What the confirmation reads, and why that is enough. It must prove that the operator's next login
// works with the host as the apply left it, and that the host is as the plan wants it. The login is
// the new connection itself. Over it, the live filter tables (firewall.kernel: what lets a login in
// or not) are read again, and every step is planned again from them, with its other facts as the
// apply last read them: each step re-read its own facts in the exec that changed them and planned
// nothing more, and a later step's re-read replaced what it changed in the same map, so a step
// undone by a later one is still caught. What could move after those reads without a casfleet
// command is the kernel (a handler's restart re-sourcing CAS's rules, a reload): that is re-read.
// Files take effect only at the next load of the firewall, and every later run compares them with
// the kernel (kernel truth). A fresh plan that is not empty fires the rollback at once. Reading
// every fact again (ufw's files, the /batm files, the timers) cost the host about 20 ms of CPU per
// changed host and proved nothing more about the login.

import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { RemoteCommand } from '../command/shell.ts';
import { CasfleetError } from '../errors.ts';
import type { AnyFact } from '../facts/fact.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import { kernelFirewall } from '../facts/kernel-firewall.ts';
import { disarmTimerCommand, fireTimerNowCommand, transactionChangeGuard } from '../host-timer/timer-commands.ts';
import { parseTimerOutcome, type TimerOutcome } from '../host-timer/timer-outcome.ts';
import { type ErrorInfo, type ErrorKind, errorInfo } from '../report/error-info.ts';
import type { EmitEvent, HostCounts } from '../report/events.ts';
import { formatDuration } from '../rollout/duration.ts';
import type { Connection, ExecResult } from '../ssh/connection.ts';
import type { Step } from '../steps/step.ts';
import type { TouchedState } from '../transaction/touched-state.ts';
import { beginTransactionCommand, parseBeginOutput, transactionId } from '../transaction/transaction-command.ts';
import { HostSession, type HostSessionOptions } from './host-session.ts';
import { describeError } from './plan-step.ts';
import { pendingIn } from './stage-gate.ts';
import { pauseAt } from './test-pause.ts';

export const DEFAULT_ROLLBACK_TIMEOUT_MS = 120_000;
/** The confirmation must be sent this long before the deadline, or it is not tried at all. */
const CONFIRM_MARGIN_MS = 2000;
const LOGIN_ATTEMPTS = 2;
/** After the dead-man is due: time for its restore (iptables-restore, a gate restart) before logging in. */
const RESTORE_GRACE_MS = 3000;
/** How long logins are retried after the dead-man is due before the host is reported unreachable. */
const RECONNECT_WINDOW_MS = 60_000;
const RECONNECT_PAUSE_MS = 3000;

/** A transaction as built before the gather: the command that begins it, and its id. */
export interface TransactionStart {
  readonly id: string;
  readonly delaySeconds: number;
  readonly rereads: readonly AnyFact[];
  /** Snapshot and arm (beginTransactionCommand). */
  readonly command: RemoteCommand;
}

export interface ArmedTransaction {
  readonly id: string;
  readonly snapshot: string;
  readonly timeoutMs: number;
  /** Local clock: the dead-man fires no earlier than this (its delay ran from after the arm was sent)… */
  readonly deadline: number;
  /** …and no later than this (the arm had returned). */
  readonly firesBy: number;
  /** When the dead-man is due by the host's own clock (epoch seconds), as the arm printed it. */
  readonly dueOnHost: number;
  /** What the confirmation reads again over its new connection (the live filter tables when the firewall changes). */
  readonly rereads: readonly AnyFact[];
}

const lastLines = (text: string): string => text.trim().split('\n').slice(-3).join(' | ');

/** The transaction a changing host will run, built before anything is read from the host. */
export const prepareTransaction = (touched: TouchedState, timeoutMs: number): TransactionStart => {
  const id = transactionId(new Date());
  const delaySeconds = Math.ceil(timeoutMs / 1000);
  return {
    id,
    delaySeconds,
    rereads: touched.firewall ? [kernelFirewall] : [],
    command: beginTransactionCommand({ id, touched, delaySeconds }),
  };
};

/**
 * Snapshot and arm: `run` sends the begin command (the gather's follow-up) and resolves with what it
 * did, or rejects when it could not be sent (HostSession.gatherHeld: the host had stopped waiting).
 * Throws (nothing changed, nothing armed) when the host could do neither.
 */
export const beginTransaction = async (
  session: HostSession,
  start: TransactionStart,
  run: () => Promise<ExecResult>,
): Promise<ArmedTransaction> => {
  const { id, delaySeconds } = start;
  const sentAt = Date.now();
  const result = await run();
  const begun = parseBeginOutput(result.stdout);
  if (result.code !== 0 || !begun) {
    const said = lastLines(result.stderr || result.stdout);
    throw new CasfleetError(
      `could not snapshot the host and arm its rollback (exit ${result.code ?? 'unknown'})${said ? `: ${said}` : ': it printed neither'}`,
    );
  }
  // A change that reaches the host only after the dead-man restored it must not be made on top, and
  // a dead-man that fires while a change runs waits for its end.
  session.guardChanges(transactionChangeGuard(id));
  return {
    id,
    snapshot: begun.snapshot,
    timeoutMs: delaySeconds * 1000,
    deadline: sentAt + delaySeconds * 1000,
    firesBy: Date.now() + delaySeconds * 1000,
    dueOnHost: begun.due,
    rereads: start.rereads,
  };
};

export interface SettleInput {
  readonly host: string;
  readonly armed: ArmedTransaction;
  /** The run's own connection, still open. */
  readonly session: HostSession;
  readonly sessionOptions: HostSessionOptions;
  /** A NEW connection to the host (fresh TCP, key exchange and login), within `readyTimeoutMs` when given. */
  readonly connectFresh: (readyTimeoutMs?: number) => Promise<Connection>;
  /** The login timeout for a new connection when there is no deadline to meet. */
  readonly readyTimeoutMs: number;
  readonly steps: readonly Step[];
  /** The host's facts as the apply last read them (host-pipeline.ts). */
  readonly facts: ReadonlyMap<string, FactOutcome>;
  /** What failed on the host after the transaction began (the first failure), if anything did. */
  readonly failure?: ErrorInfo;
  readonly counts: HostCounts;
  readonly emit: EmitEvent;
}

/**
 * The transaction ended: confirmed, or rolled back (the reason, the kind of failure that caused it and
 * what the restore did), or nobody can tell yet.
 */
type Settled =
  | { readonly kind: 'confirmed' }
  | { readonly kind: 'rolled-back'; readonly reason: string; readonly cause: ErrorKind; readonly outcome: TimerOutcome }
  | { readonly kind: 'wait'; readonly reason: string; readonly cause: ErrorKind };

/** What a timer command did; throws when it failed. */
const timerOutcome = (command: RemoteCommand, result: ExecResult): TimerOutcome => {
  if (result.code !== 0)
    throw new CasfleetError(`${command.display.split('\n')[0]}: exit ${result.code ?? 'unknown'}: ${lastLines(result.stderr)}`);
  return parseTimerOutcome(result.stdout);
};

const outcomeOver = async (session: HostSession, command: RemoteCommand): Promise<TimerOutcome> =>
  timerOutcome(command, await session.exec(command));

const withFresh = async <T>(input: SettleInput, readyTimeoutMs: number, work: (session: HostSession) => Promise<T>): Promise<T> => {
  const connection = await input.connectFresh(readyTimeoutMs);
  try {
    return await work(new HostSession(connection, input.sessionOptions));
  } finally {
    await connection.close().catch(() => undefined);
  }
};

// The change worked and nothing asked for a rollback: prove a new session works, re-read, disarm.
// A login that fails is tried again while the deadline allows (a dropped handshake on a busy host is
// not a lock-out); anything that fails after a login is final.
const confirm = async (input: SettleInput): Promise<Settled> => {
  const { armed } = input;
  let loginError = '';
  for (let attempt = 1; attempt <= LOGIN_ATTEMPTS; attempt++) {
    const left = armed.deadline - Date.now() - CONFIRM_MARGIN_MS;
    if (left <= 0) break;
    const progress = { loggedIn: false };
    try {
      return await withFresh(input, Math.min(left, input.readyTimeoutMs), async (fresh) => {
        progress.loggedIn = true;
        return confirmOver(fresh, input);
      });
    } catch (error) {
      if (progress.loggedIn)
        return { kind: 'wait', reason: `confirming over a new SSH connection failed (${describeError(error)})`, cause: 'verify' };
      loginError = describeError(error);
    }
  }
  if (!loginError)
    return {
      kind: 'wait',
      reason: `the steps took longer than the rollback timeout (${formatDuration(armed.timeoutMs)}): nothing was left to confirm them in`,
      cause: 'verify',
    };
  return { kind: 'wait', reason: `a new SSH login failed after the change (${loginError})`, cause: 'connect' };
};

/**
 * The apply's facts with the confirmation's re-reads: the very same map while every re-read equals
 * what the apply left, since plans are kept per map and fact values (plan-step.ts) and the
 * controller then plans nothing again; a copy with the re-read outcomes where any moved.
 */
export const withRereads = (
  facts: ReadonlyMap<string, FactOutcome>,
  rereads: Iterable<readonly [string, FactOutcome]>,
): ReadonlyMap<string, FactOutcome> => {
  let outcomes: Map<string, FactOutcome> | undefined;
  for (const [id, outcome] of rereads) {
    if (isDeepStrictEqual(outcome, facts.get(id))) continue;
    outcomes ??= new Map(facts);
    outcomes.set(id, outcome);
  }
  return outcomes ?? facts;
};

// The re-read, the plan and the disarm (or the rollback) in one exec: the re-read holds until the
// plan answers (HostSession.gatherHeld).
const confirmOver = async (fresh: HostSession, input: SettleInput): Promise<Settled> => {
  const { armed } = input;
  const fire = fireTimerNowCommand(armed.id);
  const disarm = disarmTimerCommand(armed.id);
  const held = await fresh.gatherHeld(armed.rereads, { fire, disarm });
  try {
    const { pending } = pendingIn(input.steps, withRereads(input.facts, held.facts));
    if (pending.length > 0) {
      const outcome = timerOutcome(fire, await held.answer('fire'));
      return {
        kind: 'rolled-back',
        reason: `a fresh read over a new connection still plans changes (${pending.join('; ')})`,
        cause: 'verify',
        outcome,
      };
    }
    const outcome = timerOutcome(disarm, await held.answer('disarm'));
    if (outcome.state === 'disarmed') return { kind: 'confirmed' };
    if (outcome.state === 'fired') {
      return {
        kind: 'rolled-back',
        reason: `the change was not confirmed within the rollback timeout (${formatDuration(armed.timeoutMs)})`,
        cause: 'verify',
        outcome,
      };
    }
    return { kind: 'wait', reason: `the dead-man timer was ${outcome.state} when the change was confirmed`, cause: 'rollback' };
  } finally {
    // A plan that threw has answered nothing: the exec ends, and the dead-man stays armed.
    await held.answer().catch(() => undefined);
  }
};

/** What the dead-man of a `timeoutMs` transaction did, in a reason. */
const itsOwnRestore = (timeoutMs: number): string => `its snapshot by itself (dead-man after ${formatDuration(timeoutMs)})`;

/**
 * How a rollback that a failed step asked for came about: fired now, or, when its restore started
 * once the dead-man was due (by the host's clock), by the dead-man itself before (a change that
 * reached the host after the deadline is refused there, and its step fails).
 */
export const rolledBackReason = (
  message: string,
  outcome: TimerOutcome,
  armed: Pick<ArmedTransaction, 'dueOnHost' | 'timeoutMs'>,
): string =>
  outcome.result && outcome.result.startedAt >= armed.dueOnHost
    ? `${message}; the host had restored ${itsOwnRestore(armed.timeoutMs)}`
    : `${message}; the snapshot was restored at once`;

// A step or handler failed: restore at once, over the connection the run already has.
const rollBackNow = async (input: SettleInput, failure: ErrorInfo): Promise<Settled> => {
  const { message, kind: cause } = failure;
  try {
    const outcome = await outcomeOver(input.session, fireTimerNowCommand(input.armed.id));
    if (outcome.state === 'fired') return { kind: 'rolled-back', reason: rolledBackReason(message, outcome, input.armed), cause, outcome };
    return { kind: 'wait', reason: `${message}; firing the rollback found it ${outcome.state}`, cause };
  } catch (error) {
    return { kind: 'wait', reason: `${message}; firing the rollback over the run's connection failed (${describeError(error)})`, cause };
  }
};

// Nobody could confirm or fire it in time: the dead-man restores the host by itself. Wait until it
// is due, log in anew and read what it did (firing it now, should the host's clock lag behind).
const awaitRollback = async (
  input: SettleInput,
  { reason, cause }: { reason: string; cause: ErrorKind },
): Promise<Settled | { kind: 'lost'; reason: string }> => {
  await sleep(Math.max(0, input.armed.firesBy + RESTORE_GRACE_MS - Date.now()));
  const giveUpAt = Date.now() + RECONNECT_WINDOW_MS;
  let lastError = '';
  do {
    try {
      const outcome = await withFresh(input, input.readyTimeoutMs, (fresh) => outcomeOver(fresh, fireTimerNowCommand(input.armed.id)));
      if (outcome.state === 'fired') {
        return {
          kind: 'rolled-back',
          reason: `${reason}; the host restored ${itsOwnRestore(input.armed.timeoutMs)}`,
          cause,
          outcome,
        };
      }
      return {
        kind: 'lost',
        reason: `${reason}; after the rollback deadline the dead-man was ${outcome.state}: check ${input.armed.snapshot} on the host`,
      };
    } catch (error) {
      lastError = describeError(error);
    }
    await sleep(RECONNECT_PAUSE_MS);
  } while (Date.now() < giveUpAt);
  return {
    kind: 'lost',
    reason:
      `${reason}; no new SSH login works after the rollback deadline either (${lastError}). The host should have restored ` +
      `its snapshot by itself; if it stays unreachable, restore it from a console: sh ${input.armed.snapshot}/restore.sh`,
  };
};

// After a rollback done over the old connection: does a new login work again?
const loginProblem = async (input: SettleInput): Promise<string | undefined> => {
  try {
    await withFresh(input, input.readyTimeoutMs, async (fresh) => {
      const result = await fresh.exec({ script: 'true', display: 'true' });
      if (result.code !== 0) throw new CasfleetError(`a new session cannot run commands (exit ${result.code ?? 'unknown'})`);
    });
    return undefined;
  } catch (error) {
    return describeError(error);
  }
};

/** End the host's transaction (confirm it or roll it back) and report how it ended. */
export const settleTransaction = async (input: SettleInput): Promise<void> => {
  const { host, emit, counts } = input;
  const begun = Date.now();
  let settled: Settled | { kind: 'lost'; reason: string };
  if (input.failure) settled = await rollBackNow(input, input.failure);
  else {
    await pauseAt('before-confirm', host);
    emit({ type: 'host-stage', host, stage: 'confirming' });
    settled = await confirm(input);
  }
  if (settled.kind === 'wait') {
    emit({ type: 'host-stage', host, stage: 'confirming' });
    settled = await awaitRollback(input, settled);
  } else if (settled.kind === 'rolled-back' && input.failure) {
    const problem = await loginProblem(input);
    if (problem) settled = { ...settled, reason: `${settled.reason}; a new SSH login still fails after it (${problem})` };
  }
  const durationMs = Date.now() - begun;
  switch (settled.kind) {
    case 'confirmed':
      emit({
        type: 'step',
        host,
        step: 'transaction',
        kind: 'transaction',
        status: 'ok',
        changes: [],
        reason: 'confirmed over a new SSH connection; rollback disarmed',
        check: false,
        durationMs,
      });
      return;
    case 'rolled-back': {
      const result = settled.outcome.result;
      const restoreProblem =
        result && result.exitCode !== 0 ? `; the restore reported a problem (exit ${result.exitCode}: see its lines)` : '';
      counts.rolledBack += 1;
      emit({
        type: 'step',
        host,
        step: 'transaction',
        kind: 'transaction',
        status: 'rolled-back',
        changes: (result?.log ?? []).filter((line) => line.trim() !== ''),
        // A restore that itself went wrong outweighs what led to it.
        error: errorInfo(restoreProblem ? 'rollback' : settled.cause, `${settled.reason}${restoreProblem}`),
        check: false,
        durationMs,
      });
      return;
    }
    case 'lost':
      counts.unreachable += 1;
      emit({ type: 'unreachable', host, error: errorInfo('rollback', settled.reason) });
      return;
  }
};
