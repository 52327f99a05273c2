// The pairing window (`casfleet pair`): 7741 open for a limited time so new or factory-reset
// terminals can pair [C] FW ("temporarily accessible from the Internet only when performing a
// pairing"), closed again by an on-host timer even when nothing runs on the operator's machine.
//
// Opening replaces Scenario A's managed `deny 7741/tcp` where it stands with an allow whose comment
// says when it closes (src/steps/ufw-window.ts), AFTER arming the timer that writes the deny back:
// casfleet dying in between leaves a timer with nothing to close, never an open port without one.
// Closing early writes the deny back, then disarms the timer. A host not under Scenario A's managed
// rules is refused untouched; a Scenario B host (7741 reachable from the hardware VPN) has nothing
// to open. Planning is pure; the times are the host's clock, which its timer counts on.
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { hostClock } from '../facts/clock.ts';
import { type FileState, fileFact } from '../facts/file.ts';
import { type UfwState, ufwState } from '../facts/ufw.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { type HostTimer, hostTimers } from '../host-timer/host-timers.ts';
import { armTimerCommand, disarmTimerCommand } from '../host-timer/timer-commands.ts';
import { type AnyPlaybook, definePlaybook } from '../playbook/define-playbook.ts';
import { formatDuration } from '../rollout/duration.ts';
import { ANY_ADDRESS } from '../steps/cidr.ts';
import { parseProperties } from '../steps/properties-edit.ts';
import { type Change, defineStep, noChange, type Step, type StepPlan, type StepState } from '../steps/step.ts';
import { ufwBatchCommand } from '../steps/ufw-batch.ts';
import { MANAGED_PREFIX } from '../steps/ufw-managed-rule.ts';
import { formatRule, isManaged } from '../steps/ufw-model.ts';
import {
  closeWindowScript,
  type FamilyRules,
  isoSeconds,
  isWindowTimerFor,
  replaceInPlace,
  willFire,
  windowComment,
  windowTimerId,
  windowUntil,
  withAction,
} from '../steps/ufw-window.ts';
import { GATE_CLOSED_COMMENT, PORTS } from './firewall-policy.ts';
import { GATE_PROPERTIES, VPN_SKIP_KEY } from './gate-files.ts';

export type PairingRequest =
  | { readonly action: 'open'; readonly seconds: number }
  | { readonly action: 'close' }
  | { readonly action: 'status' };

export const PAIRING_STEP = `pairing window (${PORTS.gate}/tcp)`;
const WINDOW_LABEL = 'gate pairing window';
const CLOSED_COMMENT = `${MANAGED_PREFIX} ${GATE_CLOSED_COMMENT}`;

/**
 * A window that still has at least the requested time minus this is kept as it is: asking again
 * for the same window a little later changes nothing, and the re-read right after opening (a few
 * seconds later) proves it converged.
 */
export const EXTEND_SLACK_SECONDS = 60;

interface PairingFacts {
  readonly ufw: UfwState;
  readonly gate: FileState;
  readonly timers: readonly HostTimer[];
  readonly clock: number;
}

/** How 7741 stands on a host. */
export type GateView =
  | { readonly kind: 'scenario-b'; readonly why: string }
  | { readonly kind: 'closed'; readonly rules: FamilyRules }
  | { readonly kind: 'window'; readonly rules: FamilyRules; readonly until: number; readonly timer?: HostTimer }
  | { readonly kind: 'permanent'; readonly rules: FamilyRules };

const FAMILIES: readonly UfwFamily[] = ['v4', 'v6'];

const isGatePort = (rule: UfwRule): boolean =>
  isManaged(rule) && rule.dport === String(PORTS.gate) && rule.proto === 'tcp' && rule.direction === 'in' && rule.sport === 'any';

// Scenario A's rule: from anywhere, on any interface.
const isScenarioAGateRule = (rule: UfwRule, family: UfwFamily): boolean =>
  isGatePort(rule) && rule.src === ANY_ADDRESS[family] && rule.dst === ANY_ADDRESS[family] && rule.interfaceIn === '';

const vpnSkipOn = (gate: FileState): boolean => {
  if (!gate.exists || gate.type !== 'file' || gate.content === null) return false;
  const entries = parseProperties(gate.content).entries.filter((entry) => entry.key === VPN_SKIP_KEY);
  return entries[entries.length - 1]?.value.trim().toLowerCase() === 'true';
};

// The rule as shown and matched: the v4 one, or the v6 one on a host whose v4 list lacks it.
const shown = (rules: FamilyRules): UfwRule => (rules.v4 ?? rules.v6) as UfwRule;

/** How 7741 stands on the host; throws StepPlanError when the host is not under Scenario A's managed rules. */
export const readGate = ({ ufw, gate, timers }: Pick<PairingFacts, 'ufw' | 'gate' | 'timers'>): GateView => {
  const fromSubnets = FAMILIES.flatMap((family) =>
    ufw.rules[family].filter((rule) => isGatePort(rule) && rule.action === 'allow' && rule.src !== ANY_ADDRESS[family]),
  );
  if (fromSubnets.length > 0) {
    return {
      kind: 'scenario-b',
      why: `7741 is reachable from the hardware VPN (${fromSubnets.map((rule) => rule.src).join(', ')}): scenario B`,
    };
  }
  if (vpnSkipOn(gate)) return { kind: 'scenario-b', why: `${VPN_SKIP_KEY}=true in ${GATE_PROPERTIES}: scenario B` };
  if (!ufw.installed) throw new StepPlanError('ufw is not installed on this host: apply scenario-a first');
  if (!ufw.enabled) throw new StepPlanError('ufw is not enabled on this host: apply scenario-a first');
  const rules: FamilyRules = {};
  for (const family of FAMILIES) {
    const rule = ufw.rules[family].find((candidate) => isScenarioAGateRule(candidate, family));
    if (rule) rules[family] = rule;
  }
  if (!rules.v4 && !rules.v6)
    throw new StepPlanError(`no casfleet-managed rule for ${PORTS.gate}/tcp on this host: apply scenario-a first`);
  const rule = shown(rules);
  if (rule.action !== 'allow' && rule.action !== 'limit') return { kind: 'closed', rules };
  const until = windowUntil(rule);
  if (until === undefined) return { kind: 'permanent', rules };
  const timer = timers.find((candidate) => candidate.id === windowTimerId(rule, until));
  return { kind: 'window', rules, until, ...(timer ? { timer } : {}) };
};

/** The state as data: the step reports it, `pair --json` prints it. */
export const gateState = (view: GateView, now: number): StepState => {
  switch (view.kind) {
    case 'scenario-b':
      return { window: 'scenario-b' };
    case 'closed':
      return { window: 'closed' };
    case 'permanent':
      return { window: 'open', closing: 'never' };
    case 'window':
      return {
        window: 'open',
        until: isoSeconds(view.until),
        remainingSeconds: Math.max(0, view.until - now),
        closing: willFire(view.timer) ? 'timer' : 'next-scenario-a',
      };
  }
};

const describeWindow = (view: Extract<GateView, { kind: 'window' }>, now: number): string => {
  const left = view.until > now ? `${formatDuration((view.until - now) * 1000)} left` : 'overdue';
  return willFire(view.timer)
    ? `open until ${isoSeconds(view.until)} (${left}; an on-host timer closes it)`
    : `open until ${isoSeconds(view.until)} (${left}) but its timer is gone (${view.timer?.state ?? 'no timer'}): the next scenario-a run closes it`;
};

const PERMANENT = `${PORTS.gate}/tcp is open with no time limit (scenario-a with pairing=true)`;

const windowTimers = (view: Exclude<GateView, { kind: 'scenario-b' }>, timers: readonly HostTimer[]): HostTimer[] =>
  timers.filter((timer) => isWindowTimerFor(shown(view.rules), timer.id));

const disarm = (timer: HostTimer, why: string): Change => ({
  summary: `- timer ${timer.id} (${why})`,
  command: disarmTimerCommand(timer.id),
});

/** Arm the closing timer first, then open (or re-date) the window; an older timer goes last. */
const planOpen = (view: Exclude<GateView, { kind: 'scenario-b' | 'permanent' }>, seconds: number, facts: PairingFacts): StepPlan => {
  const { clock: now } = facts;
  const state = gateState(view, now);
  if (view.kind === 'window' && willFire(view.timer) && view.until >= now + seconds - EXTEND_SLACK_SECONDS) {
    return noChange(`pairing window already ${describeWindow(view, now)}`, { state });
  }
  const until = now + seconds;
  const window = withAction(view.rules, 'allow', windowComment(WINDOW_LABEL, until));
  const closed = withAction(view.rules, 'deny', CLOSED_COMMENT);
  const id = windowTimerId(shown(window), until);
  const changes: Change[] = [
    {
      summary: `+ timer ${id}: closes ${PORTS.gate}/tcp at ${isoSeconds(until)} (in ${formatDuration(seconds * 1000)}), on the host`,
      // Once it has closed the window the timer removes its own records: nothing of the window remains.
      command: armTimerCommand({ id, delaySeconds: seconds, script: closeWindowScript(window, closed), forgetWhenFired: true }),
    },
    {
      summary: `~ ${formatRule(shown(window))} (was: ${formatRule(shown(view.rules))})`,
      command: ufwBatchCommand(replaceInPlace(window), { reapplyVpngen: false }),
    },
    ...windowTimers(view, facts.timers).map((timer) =>
      disarm(timer, view.kind === 'window' ? 'the old close time' : 'left over, nothing to close'),
    ),
  ];
  return { changes, state };
};

/** Write the closed rule back first, then disarm the window's timers (a late firing finds nothing to close). */
const planClose = (view: Exclude<GateView, { kind: 'scenario-b' }>, facts: PairingFacts): StepPlan => {
  const state = gateState(view, facts.clock);
  if (view.kind === 'permanent') {
    throw new StepPlanError(`${PERMANENT}, not by a pairing window: apply scenario-a without pairing=true to close it`);
  }
  const timers = windowTimers(view, facts.timers);
  const changes: Change[] = [];
  if (view.kind === 'window') {
    const closed = withAction(view.rules, 'deny', CLOSED_COMMENT);
    changes.push({
      summary: `~ ${formatRule(shown(closed))} (was: ${formatRule(shown(view.rules))})`,
      command: ufwBatchCommand(replaceInPlace(closed), { reapplyVpngen: false }),
    });
  }
  changes.push(...timers.map((timer) => disarm(timer, view.kind === 'window' ? 'the window is closed' : 'left over, nothing to close')));
  return changes.length > 0 ? { changes, state } : noChange(`${PORTS.gate}/tcp is closed (no pairing window open)`, { state });
};

/** Plans a pairing request from the facts (pure). */
export const planPairing = (request: PairingRequest, facts: PairingFacts): StepPlan => {
  const view = readGate(facts);
  const state = gateState(view, facts.clock);
  if (view.kind === 'scenario-b') {
    const verb = request.action === 'status' ? 'no pairing window needed' : `nothing to ${request.action}`;
    return noChange(`${verb}: ${view.why}`, { state });
  }
  if (request.action === 'status') {
    const text = view.kind === 'window' ? describeWindow(view, facts.clock) : view.kind === 'permanent' ? PERMANENT : 'closed';
    return noChange(`pairing window ${text}`, { state });
  }
  if (request.action === 'close') return planClose(view, facts);
  if (view.kind === 'permanent') return noChange(`nothing to open: ${PERMANENT}`, { state });
  return planOpen(view, request.seconds, facts);
};

/** The step `casfleet pair` runs on every host. */
export const pairingWindow = (request: PairingRequest): Step =>
  defineStep({
    name: PAIRING_STEP,
    facts: { ufw: ufwState, gate: fileFact(GATE_PROPERTIES), timers: hostTimers, clock: hostClock },
    plan: (facts) => planPairing(request, facts),
  });

/** `casfleet pair` as a playbook, so it runs through the same runner as `apply`. */
export const pairingPlaybook = (request: PairingRequest): AnyPlaybook =>
  definePlaybook({
    name: 'pair',
    description: `open, close or show the pairing window on ${PORTS.gate}/tcp`,
    vars: z.object({}),
    steps: () => [pairingWindow(request)],
  });
