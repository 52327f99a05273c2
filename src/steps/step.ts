// A step is a pure planner: given the desired state (closed over when the playbook builds the
// step from its vars) and the facts it declared, it returns the ordered changes to make, or an
// empty plan with the reason nothing needs to change. The runner applies the changes, re-reads
// the same facts and plans again: a step has converged only when that second plan is empty.

import type { RemoteCommand } from '../command/shell.ts';
import type { ChangeStdin } from '../command/stdin-parts.ts';
import type { FactMap, FactValues } from '../facts/fact.ts';

/** One change with a human summary ("+ allow 7742/tcp in on eth0") and the commands that make it. */
export interface Change {
  readonly summary: string;
  /**
   * The script that makes this change. An empty script (`NO_COMMAND`) means an earlier change of the
   * same plan carries it (several changes batched into one remote process, e.g. all ufw operations
   * in one python3 run): the runner runs the non-empty commands in order and shows every summary.
   */
  readonly command: RemoteCommand;
  /** What the command reads (file contents for atomic writes; see command/stdin-parts.ts); never logged. */
  readonly stdin?: ChangeStdin;
}

/** The command of a summary-only change whose work an earlier change of the plan performs. */
export const NO_COMMAND: RemoteCommand = { script: '', display: '' };

/** Before/after text of the state a step manages, for --diff. */
export interface StateDiff {
  readonly before: string;
  readonly after: string;
}

export interface StepPlan {
  readonly changes: readonly Change[];
  /** Why nothing changes (required when `changes` is empty). */
  readonly noop?: string;
  readonly diff?: StateDiff;
  /** Things the operator should know that do not block the step (e.g. an unmanaged rule overriding policy). */
  readonly warnings?: readonly string[];
  /** The managed state as data, for machine-readable output (e.g. when a pairing window closes). */
  readonly state?: StepState;
  /** Ports the step leaves open for now although the policy closes them (see OpenWindow). */
  readonly openWindows?: readonly OpenWindow[];
}

/**
 * What applying a step may change on the host. An apply snapshots all of it before the first change
 * and the host restores it by itself unless the change is confirmed (run/host-transaction.ts); a step
 * that declares nothing is not covered by that rollback.
 */
export interface StepTouches {
  /** Files the step may write, create or remove (absolute paths); a file that did not exist is removed again. */
  readonly files?: readonly string[];
  /** The step changes the kernel's packet filter (the iptables filter tables, ufw's chains included). */
  readonly firewall?: boolean;
}

/**
 * A port range a step knowingly leaves open until an on-host timer closes it (a pairing window):
 * checks of the declared exposure must not count it as exposed while it lasts.
 */
export interface OpenWindow {
  /** The rule as people read it: `allow 7741/tcp (gate pairing window until 2026-11-30T15:05:12Z)`. */
  readonly rule: string;
  /** Inclusive port ranges the window opens. */
  readonly ports: readonly (readonly [number, number])[];
  /** Epoch seconds (the host's clock). */
  readonly until: number;
}

/** Flat data a step reports about the state it manages; shown in --json step events. */
export type StepState = Readonly<Record<string, string | number | boolean>>;

export interface Step<M extends FactMap = FactMap> {
  /** Shown in output and used in events: "firewall (ufw)", "gate.properties batm.vpn-skip=true". */
  readonly name: string;
  readonly facts: M;
  plan(facts: FactValues<M>): StepPlan;
  /** Handler names to run (once, after the steps) when this step changed the host. */
  readonly notify?: readonly string[];
  readonly touches?: StepTouches;
}

/** A handler runs once per host, only when a step that notifies it changed something. */
export interface Handler<M extends FactMap = FactMap, P extends FactMap = FactMap> {
  readonly name: string;
  readonly command: RemoteCommand;
  /** Facts read after the command to prove it worked. */
  readonly facts: M;
  /** Returns a problem description when the state after the handler is wrong. */
  check(facts: FactValues<M>): string | undefined;
  /**
   * What the host needs for the command to run at all, checked before the host's first change when
   * a step that notifies this handler is about to change: a problem stops the host untouched, instead
   * of changed and then unable to run the handler (a config switched, its service never restarted).
   * Its facts are read in every gather of a playbook whose steps notify the handler, changing or
   * not, so they must be cheap (a test of the shell, not a service's status).
   */
  readonly preflight?: HandlerPreflight<P>;
}

export interface HandlerPreflight<P extends FactMap = FactMap> {
  readonly facts: P;
  /** Returns why the handler could not run on this host, or undefined. */
  check(facts: FactValues<P>): string | undefined;
}

/** Marker step: run the handlers notified so far before continuing (Ansible's flush_handlers). */
export interface FlushHandlers {
  readonly flushHandlers: true;
}

export const FLUSH_HANDLERS: FlushHandlers = { flushHandlers: true };

export const isFlushHandlers = (item: unknown): item is FlushHandlers =>
  typeof item === 'object' && item !== null && 'flushHandlers' in item;

// Steps and handlers are generic over their own FactMap; these helpers keep that inference at the
// definition site while letting playbooks hold mixed lists.
export const defineStep = <M extends FactMap>(step: Step<M>): Step => step as unknown as Step;
export const defineHandler = <M extends FactMap, P extends FactMap = FactMap>(handler: Handler<M, P>): Handler =>
  handler as unknown as Handler;

/** An empty plan with its reason. */
export const noChange = (reason: string, extra: Omit<StepPlan, 'changes' | 'noop'> = {}): StepPlan => ({
  changes: [],
  noop: reason,
  ...extra,
});
