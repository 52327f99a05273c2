// Timed windows: a managed ufw rule that holds, for a limited time, the place of the managed rule
// with the same match — an allow where the policy has a deny (a pairing window on 7741). The
// window's comment carries its close time, and an on-host timer (src/host-timer/) puts the closed
// rule back when it is due, with nothing running on the operator's machine. While that timer is
// armed the rule-set planner counts the window as compliant; once the timer is gone (it fired, or a
// reboot lost it) the window is just a managed rule out of policy, and the next run closes it.
//
// Opening and closing replace the rule where it is: ufw keeps one rule per match, and adding a rule
// whose match exists rewrites that rule in place (see ufw-model.ts), so the rule order never changes.
import { joinCommands, type RemoteCommand, sh } from '../command/shell.ts';
import { UFW_RULE_FILES } from '../facts/ufw.ts';
import { encodeUfwComment, type UfwFamily, type UfwRule } from '../facts/ufw-tuple.ts';
import type { HostTimer } from '../host-timer/host-timers.ts';
import { portRanges } from './port-ranges.ts';
import type { OpenWindow } from './step.ts';
import { MANAGED_PREFIX } from './ufw-managed-rule.ts';
import { formatRule, isFamilyAgnostic, isManaged, matchKey, ruleWords } from './ufw-model.ts';

/** A rule in each address family that has it (v6 only when ufw uses IPv6). */
export type FamilyRules = Partial<Record<UfwFamily, UfwRule>>;

const FAMILIES: readonly UfwFamily[] = ['v4', 'v6'];
const UNTIL = / until (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/;
const TIMER_PREFIX = 'ufw-window-';

/** `2026-11-30T15:05:12Z`: how a window's comment writes its close time (UTC, whole seconds). */
export const isoSeconds = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The comment of a window rule: `casfleet: <label> until <ISO time>`. */
export const windowComment = (label: string, untilEpoch: number): string => `${MANAGED_PREFIX} ${label} until ${isoSeconds(untilEpoch)}`;

const isAllow = (rule: UfwRule): boolean => rule.action === 'allow' || rule.action === 'limit';

/** When a window rule closes (epoch seconds); undefined for any rule that is not a window. */
export const windowUntil = (rule: UfwRule): number | undefined => {
  if (!isManaged(rule) || !isAllow(rule)) return undefined;
  const text = UNTIL.exec(rule.comment)?.[1];
  const ms = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms / 1000;
};

const portTag = (rule: UfwRule): string => rule.dport.replace(/\D+/g, '-');

/** The on-host timer that closes a window, one per window: named after its port and close time. */
export const windowTimerId = (rule: UfwRule, untilEpoch: number): string => `${TIMER_PREFIX}${portTag(rule)}-${untilEpoch}`;

/** True for the id of any window timer on this rule's port, whatever its close time. */
export const isWindowTimerFor = (rule: UfwRule, timerId: string): boolean => timerId.startsWith(`${TIMER_PREFIX}${portTag(rule)}-`);

/** The same rule with another action and comment, in every family given. */
export const withAction = (rules: FamilyRules, action: UfwRule['action'], comment: string): FamilyRules =>
  Object.fromEntries(Object.entries(rules).map(([family, rule]) => [family, { ...rule, action, comment }]));

/**
 * The ufw operations (argv after `ufw`) that write `rules` over the rules of the same match, where
 * they are: one operation for twins ufw stores in both files, else one per family.
 */
export const replaceInPlace = (rules: FamilyRules): string[][] => {
  const { v4, v6 } = rules;
  if (v4 && v6 && isFamilyAgnostic(v4)) return [ruleWords(v4, 'both')];
  return FAMILIES.flatMap((family) => {
    const rule = rules[family];
    return rule ? [ruleWords(rule, family)] : [];
  });
};

/**
 * What the timer runs: in each family where the window is still in place (its exact comment, so a
 * window that was extended or closed meanwhile is left alone), write the closed rule back over it.
 */
export const closeWindowScript = (window: FamilyRules, closed: FamilyRules): string =>
  joinCommands([
    sh`PATH="$PATH:/usr/sbin:/sbin"\nrc=0`,
    ...FAMILIES.flatMap((family) => {
      const open = window[family];
      const rule = closed[family];
      if (!open || !rule) return [] as RemoteCommand[];
      return [
        sh`if grep -qs -- ${` comment=${encodeUfwComment(open.comment)}$`} ${UFW_RULE_FILES[family]}; then ufw ${ruleWords(rule, family)} || rc=1; fi`,
      ];
    }),
    sh`exit $rc`,
  ]).script;

/** The timer will still fire (or is firing now): a window it closes needs nobody else to close it. */
export const willFire = (timer: HostTimer | undefined): boolean => timer?.state === 'armed' || timer?.state === 'firing';

/**
 * The desired rules with every closed rule whose place an armed window holds replaced by that
 * window, so the reconcile finds it in place and leaves it; and the windows so kept. Only rules
 * that allow windows (`windowed(index)`) are held; a window without an armed timer is not kept
 * (the reconcile closes it), nor one where the policy itself opens the port (its permanent rule
 * replaces the window).
 */
export const keepArmedWindows = (
  current: Readonly<Record<UfwFamily, readonly UfwRule[]>>,
  desired: readonly FamilyRules[],
  timers: readonly HostTimer[],
  windowed: (index: number) => boolean,
): { desired: FamilyRules[]; open: OpenWindow[] } => {
  const armed = new Set(timers.filter(willFire).map((timer) => timer.id));
  const open = new Map<string, OpenWindow>();
  const kept = desired.map((entry, index) => {
    const result: FamilyRules = { ...entry };
    if (!windowed(index)) return result;
    for (const family of FAMILIES) {
      const want = entry[family];
      if (!want || isAllow(want)) continue;
      const window = current[family].find((rule) => matchKey(rule) === matchKey(want) && windowUntil(rule) !== undefined);
      const until = window ? windowUntil(window) : undefined;
      if (!window || until === undefined || !armed.has(windowTimerId(window, until))) continue;
      result[family] = window;
      open.set(formatRule(window), { rule: formatRule(window), ports: portRanges(window.dport), until });
    }
    return result;
  });
  return { desired: kept, open: [...open.values()] };
};
