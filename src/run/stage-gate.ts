// The gate after a rollout stage, per host: a fresh read of every fact must plan no change (nothing
// still pending, e.g. a change that a restart undid), a NEW SSH connection must still log in (the
// run's own connection would survive a firewall that locks everyone else out), and the host must
// look from outside the way the playbook declares (ports that must answer, ports that must be
// filtered). A host that fails its gate counts as failed against the stage's budget. What the host's
// transaction confirmation or its probe after the apply already proved is not done twice.

import type { FactOutcome } from '../facts/gather-script.ts';
import { type PortProbeResult, probePorts } from '../net/probe.ts';
import type { PlaybookExposure } from '../playbook/define-playbook.ts';
import type { Connection } from '../ssh/connection.ts';
import { isFlushHandlers, type OpenWindow, type Step } from '../steps/step.ts';
import type { HostSession } from './host-session.ts';
import { factsOf, planStep, uniqueFacts } from './plan-step.ts';

const PROBE_TIMEOUT_MS = 1500;
/** A port that must answer but did not is asked once more, with more patience, before it counts. */
const RECHECK_TIMEOUT_MS = 4000;

/**
 * Changes a fresh read would still plan, as "step: summary" lines, and the windows the steps leave
 * open for now (a pairing window until its on-host timer closes it).
 */
export const pendingChanges = async (
  session: HostSession,
  steps: readonly Step[],
): Promise<{ pending: string[]; openWindows: OpenWindow[] }> =>
  pendingIn(steps, await session.gather(uniqueFacts(steps.flatMap((step) => factsOf(step.facts)))));

/** The same from facts already read (pure). */
export const pendingIn = (
  steps: readonly Step[],
  outcomes: ReadonlyMap<string, FactOutcome>,
): { pending: string[]; openWindows: OpenWindow[] } => {
  const plans = steps.map((step) => ({ step, ...planStep(step, outcomes) }));
  return {
    pending: plans.flatMap(({ step, plan, error }) =>
      plan ? plan.changes.map((change) => `${step.name}: ${change.summary}`) : [`${step.name}: ${error?.message ?? 'no plan'}`],
    ),
    openWindows: plans.flatMap(({ plan }) => plan?.openWindows ?? []),
  };
};

const stateIn = (results: readonly PortProbeResult[], port: number) => results.find((result) => result.port === port)?.state;

/** The open window that holds `port` open, if any. */
const windowHolding = (openWindows: readonly OpenWindow[], port: number): OpenWindow | undefined =>
  openWindows.find((window) => window.ports.some(([low, high]) => low <= port && port <= high));

/**
 * Problems with what the host exposes, from probes sent by this machine. A port an open window
 * holds (until its on-host timer closes it) is not expected filtered while the window lasts.
 */
export const exposureProblems = (
  exposure: PlaybookExposure,
  results: readonly PortProbeResult[],
  openWindows: readonly OpenWindow[] = [],
): string[] => {
  const stateOf = (port: number) => stateIn(results, port);
  const inWindow = (port: number) => windowHolding(openWindows, port) !== undefined;
  return [
    ...exposure.reachable
      .filter((port) => stateOf(port) === 'filtered')
      .map((port) => `port ${port} does not answer from here (expected reachable)`),
    ...exposure.blocked
      .filter((port) => stateOf(port) !== 'filtered' && !inWindow(port))
      .map((port) => `port ${port} is ${stateOf(port) ?? 'unknown'} from here (expected filtered)`),
  ];
};

/**
 * What a probe that found no problem saw, for people, never what the playbook declares: the ports
 * that answered (those in `proven` by a login from here, not probed), refused ones marked; those
 * filtered; and blocked ports that answer because a window holds them open, with the window.
 */
export const describeProbe = (
  exposure: PlaybookExposure,
  results: readonly PortProbeResult[],
  proven: readonly number[],
  openWindows: readonly OpenWindow[],
): string => {
  const stateOf = (port: number) => stateIn(results, port);
  const windowOf = (port: number) => windowHolding(openWindows, port);
  const seen = (port: number) => `${port}${stateOf(port) === 'closed' ? ' (refused)' : ''}`;
  const answered = (port: number) => proven.includes(port) || (stateOf(port) !== undefined && stateOf(port) !== 'filtered');
  const windowed = exposure.blocked.filter((port) => answered(port) && windowOf(port) !== undefined);
  const ports = [...exposure.reachable, ...exposure.blocked];
  const list = (chosen: readonly string[]) => chosen.join(', ') || 'none';
  const login = proven.length > 0 ? ` (${proven.join(', ')}: this run's SSH login)` : '';
  const parts = [
    `answer: ${list(ports.filter((port) => answered(port) && !windowed.includes(port)).map(seen))}${login}`,
    `filtered: ${list(ports.filter((port) => stateOf(port) === 'filtered').map(String))}`,
  ];
  if (windowed.length > 0) {
    const held = windowed.map((port) => `${seen(port)} (${windowOf(port)!.rule}, closed by its on-host timer)`);
    parts.push(`open while a window lasts: ${held.join(', ')}`);
  }
  return parts.join('; ');
};

/**
 * Probe the declared ports from this machine; the problems found (empty: as declared). "No answer"
 * from a port that must answer is asked again before it counts: on a busy machine the timeout can
 * run out before the answer is read, while an answer (open, refused) is never imagined. A port that
 * must be filtered but answers may be held by an open window (a pairing window): `openWindows` is
 * asked only then, since it costs a fresh read of the host.
 */
export const probeExposure = async (
  address: string,
  exposure: PlaybookExposure,
  openWindows: () => Promise<readonly OpenWindow[]> = async () => [],
): Promise<string[]> => judgeExposure(exposure, await probeExposurePorts(address, exposure), openWindows);

/** The probe half of probeExposure: every declared port's state, a silent must-answer port asked twice. */
export const probeExposurePorts = async (address: string, exposure: PlaybookExposure): Promise<PortProbeResult[]> => {
  if (exposure.reachable.length + exposure.blocked.length === 0) return [];
  const results = await probePorts({ address, ports: [...exposure.reachable, ...exposure.blocked], timeoutMs: PROBE_TIMEOUT_MS });
  const silent = exposure.reachable.filter((port) => results.find((result) => result.port === port)?.state === 'filtered');
  if (silent.length === 0) return results;
  const again = await probePorts({ address, ports: silent, timeoutMs: RECHECK_TIMEOUT_MS });
  return results.map((result) => again.find((retry) => retry.port === result.port) ?? result);
};

/** The judging half of probeExposure: the problems in `results`, asking `openWindows` only when a blocked port answered. */
export const judgeExposure = async (
  exposure: PlaybookExposure,
  results: readonly PortProbeResult[],
  openWindows: () => Promise<readonly OpenWindow[]> = async () => [],
): Promise<string[]> => {
  const problems = exposureProblems(exposure, results);
  const answered = exposure.blocked.some((port) => results.find((result) => result.port === port)?.state !== 'filtered');
  return answered ? exposureProblems(exposure, results, await openWindows()) : problems;
};

export interface GateInput {
  readonly session: HostSession;
  /** A NEW connection: the established one survives a firewall that would refuse the next login. */
  readonly openFresh: () => Promise<Connection>;
  readonly address: string;
  readonly items: readonly (Step | { flushHandlers: true })[];
  readonly exposure?: PlaybookExposure;
  /** The host's transaction was confirmed over a new connection that re-read it: skip both here. */
  readonly confirmed?: boolean;
  /** Leave the exposure out (probed already after the apply, or --no-probe). */
  readonly skipProbe?: boolean;
}

/** Why a new SSH login fails after the change, if it does. */
const freshLoginProblem = async (openFresh: () => Promise<Connection>): Promise<string | undefined> => {
  let connection: Connection | undefined;
  try {
    connection = await openFresh();
    const result = await connection.exec('true', { timeoutMs: 15_000 });
    return result.code === 0 ? undefined : `a new SSH session cannot run commands (exit ${result.code ?? 'unknown'})`;
  } catch (error) {
    return `a new SSH connection fails after the change: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await connection?.close().catch(() => undefined);
  }
};

/** Every problem the gate finds on one host (empty: the host passes). */
export const checkGate = async ({ session, address, items, exposure, openFresh, confirmed, skipProbe }: GateInput): Promise<string[]> => {
  const steps = items.filter((item): item is Step => !isFlushHandlers(item));
  const problems: string[] = [];
  let windows: readonly OpenWindow[] | undefined;
  if (!confirmed) {
    const fresh = await pendingChanges(session, steps);
    windows = fresh.openWindows;
    problems.push(...fresh.pending.map((line) => `still pending: ${line}`));
    const login = await freshLoginProblem(openFresh);
    if (login) problems.push(login);
  }
  const openWindows = async () => windows ?? (await pendingChanges(session, steps)).openWindows;
  if (exposure && !skipProbe) problems.push(...(await probeExposure(address, exposure, openWindows)));
  return problems;
};
