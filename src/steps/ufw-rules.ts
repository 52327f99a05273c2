// The firewall as one desired state: default incoming policy + the WHOLE ordered managed rule set +
// enabled. Planning is pure: it reads the ufw and network facts, reconciles every managed rule in
// order (ufw-reconcile.ts), never runs `ufw reset`, never touches rules without a casfleet comment,
// changes the default policy only when it differs (each change restarts the firewall), and enables
// ufw only when the plan guarantees an SSH allow is in place first. All ufw work of a plan runs in
// one batched python process (ufw-batch.ts), carried by the first change.
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { parseArgs } from '../facts/args.ts';
import { networkInterfaces, type NetworkState } from '../facts/network.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { UFW_FILES, ufwState, type UfwPolicy, type UfwState } from '../facts/ufw.ts';
import { defineStep, noChange, NO_COMMAND, type Change, type Step, type StepPlan } from './step.ts';
import { parseCidr } from './cidr.ts';
import { ufwBatchCommand } from './ufw-batch.ts';
import { interfaceResolver, missingInterfaceWarning } from './public-interface.ts';
import { managedRuleSchema, sshAllowed } from './ufw-managed-rule.ts';
import { expandManagedRule, formatRule, isFamilyAgnostic, isManaged, matchKey } from './ufw-model.ts';
import { reconcileRules, type UfwOp } from './ufw-reconcile.ts';
import { keepsPortOpen, unmanagedRuleWarnings } from './ufw-warnings.ts';
import { VPNGEN_RULES } from './vpngen-rules.ts';

export const ufwRuleSetSchema = z
  .object({
    defaultIncoming: z.enum(['deny', 'allow', 'reject']),
    rules: z.array(managedRuleSchema).min(1),
    /** Only `true`: casfleet enables ufw; disabling a firewall is not a rollout it offers. */
    enabled: z.literal(true),
    /** The sshd port the plan must keep open before enabling (default 22). */
    sshPort: z.number().int().min(1).max(65535).default(22),
  })
  .strict();

export type UfwRuleSetArgs = z.input<typeof ufwRuleSetSchema>;
type Desired = z.output<typeof ufwRuleSetSchema>;

const describeManaged = (rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>): string[] =>
  (['v4', 'v6'] as const).flatMap((family) => rules[family].filter(isManaged).map((rule) => `[${family}] ${formatRule(rule)}`));

const describeState = (enabled: string, policy: UfwPolicy, rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>): string =>
  [`ufw: ${enabled}`, `default incoming: ${policy}`, ...describeManaged(rules)].join('\n');

const OP_SIGN = { insert: '+', append: '+', delete: '-', replace: '~' } as const;

/** One summary per rule change; v4/v6 halves of the same rule (not merged by ufw) share one line. */
const ruleChanges = (ops: readonly UfwOp[], ipv6: boolean): string[] => {
  const summaries: string[] = [];
  for (let i = 0; i < ops.length; i += 1) {
    const op = ops[i] as UfwOp;
    const next = ops[i + 1];
    const text = op.kind === 'replace' && op.previous ? `${formatRule(op.rule)} (was: ${formatRule(op.previous)})` : formatRule(op.rule);
    const pair = next && next.kind.replace('append', 'insert') === op.kind.replace('append', 'insert') && op.family === 'v4' && next.family === 'v6' && formatRule(next.rule) === formatRule(op.rule);
    if (pair) i += 1;
    const single = !pair && op.family !== 'both' && ipv6 && isFamilyAgnostic(op.rule);
    summaries.push(`${OP_SIGN[op.kind]} ${text}${single ? ` [${op.family} only]` : ''}`);
  }
  return summaries;
};

/** Plans the ufw changes from the facts (pure). Throws StepPlanError when the state cannot be reached safely. */
export const planUfwRuleSet = (desired: Desired, ufw: UfwState, network: NetworkState): StepPlan => {
  if (!ufw.installed) throw new StepPlanError('ufw is not installed on this host (install the ufw package first)');
  if (!desired.rules.some((rule) => sshAllowed(rule, desired.sshPort))) {
    throw new StepPlanError(`the desired rules have no allow for SSH (tcp port ${desired.sshPort}): enabling ufw would lock you out`);
  }
  const warnings: string[] = [];
  const interfaceOf = interfaceResolver(desired.rules.map((rule) => rule.interface), network);
  const expanded = desired.rules.map((rule, index) => {
    if (rule.from !== undefined && parseCidr(rule.from)?.family === 'v6' && !ufw.ipv6) {
      throw new StepPlanError(`rule #${index + 1} allows from IPv6 ${rule.from} but ufw has IPv6 off (IPV6=no in /etc/default/ufw)`);
    }
    const iface = interfaceOf(rule.interface);
    const missing = missingInterfaceWarning(iface, network, `rule #${index + 1}`);
    if (missing) warnings.push(missing);
    return expandManagedRule(rule, iface, ufw.ipv6);
  });
  const { ops, final } = reconcileRules(ufw.rules, expanded, ufw.ipv6, desired.sshPort);
  const enable = !ufw.enabled || !ufw.chainsLoaded;
  // Whatever the rule changes, the firewall ends up enabled: SSH must still get in afterwards.
  if (!keepsPortOpen(final.v4, 'v4', desired.sshPort) && !keepsPortOpen(final.v6, 'v6', desired.sshPort)) {
    throw new StepPlanError(
      `refusing to ${enable ? 'enable' : 'change'} ufw: no rule would let SSH (tcp port ${desired.sshPort}) in afterwards (an earlier deny blocks it?)`,
    );
  }
  const desiredKeys = new Set(expanded.flatMap((entry) => Object.values(entry).map(matchKey)));
  warnings.push(...unmanagedRuleWarnings(final, desiredKeys, desired.defaultIncoming));

  const summaries = ruleChanges(ops, ufw.ipv6);
  const words = ops.map((op) => op.words);
  const policyChanges = ufw.defaultIncoming !== desired.defaultIncoming;
  if (policyChanges) {
    words.push(['default', desired.defaultIncoming, 'incoming']);
    summaries.push(`~ default incoming: ${ufw.defaultIncoming} → ${desired.defaultIncoming}`);
  }
  if (enable) {
    words.push(['--force', 'enable']);
    summaries.push(ufw.enabled ? '+ enable ufw (enabled in ufw.conf but its rules are not loaded)' : '+ enable ufw');
  }
  const reapplyVpngen = ufw.vpngenRules && (enable || (policyChanges && ufw.enabled));
  if (reapplyVpngen) summaries.push(`~ re-apply ${VPNGEN_RULES} (CAS terminal-VPN rules) after the ufw restart`);

  const before = describeState(ufw.enabled ? (ufw.chainsLoaded ? 'enabled' : 'enabled, rules not loaded') : 'disabled', ufw.defaultIncoming, ufw.rules);
  const diff = { before, after: describeState('enabled', desired.defaultIncoming, final) };
  const extra = warnings.length > 0 ? { warnings } : {};
  if (words.length === 0) {
    const count = `${final.v4.filter(isManaged).length} v4 + ${final.v6.filter(isManaged).length} v6`;
    return noChange(`ufw enabled, default incoming ${ufw.defaultIncoming}, all ${desired.rules.length} managed rules in place and in order (${count})`, extra);
  }
  const command = ufwBatchCommand(words, { reapplyVpngen });
  const changes: Change[] = summaries.map((summary, i) => (i === 0 ? { summary, command } : { summary, command: NO_COMMAND }));
  return { changes, diff, ...extra };
};

/** The ufw firewall as a whole desired state (default policy, ordered managed rules, enabled). */
export const ufwRuleSet = (args: UfwRuleSetArgs): Step => {
  const desired = parseArgs(ufwRuleSetSchema, args, 'ufwRuleSet');
  return defineStep({
    name: 'firewall (ufw)',
    facts: { ufw: ufwState, network: networkInterfaces },
    plan: ({ ufw, network }) => planUfwRuleSet(desired, ufw, network),
    touches: { files: UFW_FILES, firewall: true },
  });
};
