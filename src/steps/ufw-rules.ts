// The firewall as one desired state: default incoming policy + the WHOLE ordered managed rule set +
// enabled. Planning is pure: it reads the ufw, network, kernel and SSH-session facts, reconciles
// every managed rule in order (ufw-reconcile.ts), never runs `ufw reset`, never touches rules
// without a casfleet comment, changes the default policy only when it differs (each change
// restarts the firewall), reloads ufw when its running chains drifted from its files, and enables
// ufw only when the plan guarantees an SSH allow is in place first. Before anything changes, the
// host must pass two checks, or it fails untouched: the kernel holds no rule outside ufw that opens
// a protected port (kernel-truth.ts), and the final rule set still lets THIS SSH session's port
// and source in (ssh-guard.ts). All ufw work of a plan runs in one remote script (ufw-batch.ts),
// carried by the first change: rule changes as rule files written without python where the writer
// mirrors ufw (ufw-file-write.ts), one batched python process otherwise.
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { parseArgs } from '../facts/args.ts';
import { type KernelFirewall, kernelFirewall } from '../facts/kernel-firewall.ts';
import { type NetworkState, networkInterfaces } from '../facts/network.ts';
import { type SshConnection, sshConnection } from '../facts/ssh-connection.ts';
import { UFW_FILES, type UfwPolicy, type UfwState, ufwState } from '../facts/ufw.ts';
import type { UfwFamily, UfwRule } from '../facts/ufw-tuple.ts';
import { type HostTimer, hostTimers } from '../host-timer/host-timers.ts';
import { parseCidr } from './cidr.ts';
import { MANAGED_CHAIN } from './iptables-chain.ts';
import { analyseKernel } from './kernel-truth.ts';
import { kernelProblems, kernelWarnings } from './kernel-verdict.ts';
import { assertInterfacesExist, interfaceResolver } from './public-interface.ts';
import { checkSshAccess, lockOutMessage, ufwLockOutInput } from './ssh-guard.ts';
import { type Change, defineStep, NO_COMMAND, noChange, type Step, type StepPlan } from './step.ts';
import { ufwBatchCommand } from './ufw-batch.ts';
import { planUfwFileWrite, ufwFileWriteStdin } from './ufw-file-write.ts';
import { CONNECTION_PORT, type ManagedRule, managedRuleSchema, sshAllowed } from './ufw-managed-rule.ts';
import { expandManagedRule, formatRule, isFamilyAgnostic, isManaged, matchKey } from './ufw-model.ts';
import { reconcileRules, type UfwOp } from './ufw-reconcile.ts';
import { ruleLinesMismatches, withRewrittenRuleLines } from './ufw-rule-lines.ts';
import { keepsPortOpen, unmanagedRuleWarnings } from './ufw-warnings.ts';
import { keepArmedWindows } from './ufw-window.ts';
import { VPNGEN_RULES } from './vpngen-rules.ts';

const port = z.number().int().min(1).max(65535);

export const ufwRuleSetSchema = z
  .object({
    defaultIncoming: z.enum(['deny', 'allow', 'reject']),
    rules: z.array(managedRuleSchema).min(1),
    /** Only `true`: casfleet enables ufw; disabling a firewall is not a rollout it offers. */
    enabled: z.literal(true),
    /** The sshd port the plan must keep open; default: the port of this SSH session on each host. */
    sshPort: z.union([port, z.literal(CONNECTION_PORT)]).default(CONNECTION_PORT),
    /** Ports only ufw may open: a kernel rule outside ufw accepting one fails the host. */
    protectedPorts: z.array(z.union([port, z.tuple([port, port])])).default([]),
  })
  .strict();

export type UfwRuleSetArgs = z.input<typeof ufwRuleSetSchema>;
type Desired = z.output<typeof ufwRuleSetSchema>;

const describeManaged = (rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>): string[] =>
  (['v4', 'v6'] as const).flatMap((family) => rules[family].filter(isManaged).map((rule) => `[${family}] ${formatRule(rule)}`));

const describeState = (
  enabled: string,
  policy: UfwPolicy,
  rules: Readonly<Record<UfwFamily, readonly UfwRule[]>>,
  drift: readonly string[] = [],
): string =>
  [`ufw: ${enabled}`, `default incoming: ${policy}`, ...describeManaged(rules), ...drift.map((line) => `running: ${line}`)].join('\n');

const OP_SIGN = { insert: '+', append: '+', delete: '-', replace: '~' } as const;

/** One summary per rule change; v4/v6 halves of the same rule (not merged by ufw) share one line. */
const ruleChanges = (ops: readonly UfwOp[], ipv6: boolean): string[] => {
  const summaries: string[] = [];
  for (let i = 0; i < ops.length; i += 1) {
    const op = ops[i] as UfwOp;
    const next = ops[i + 1];
    const text = op.kind === 'replace' && op.previous ? `${formatRule(op.rule)} (was: ${formatRule(op.previous)})` : formatRule(op.rule);
    const pair =
      next &&
      next.kind.replace('append', 'insert') === op.kind.replace('append', 'insert') &&
      op.family === 'v4' &&
      next.family === 'v6' &&
      formatRule(next.rule) === formatRule(op.rule);
    if (pair) i += 1;
    const single = !pair && op.family !== 'both' && ipv6 && isFamilyAgnostic(op.rule);
    summaries.push(`${OP_SIGN[op.kind]} ${text}${single ? ` [${op.family} only]` : ''}`);
  }
  return summaries;
};

export interface UfwFacts {
  readonly ufw: UfwState;
  readonly network: NetworkState;
  readonly kernel: KernelFirewall;
  /** The SSH session casfleet plans over; null when the host does not know it (not an SSH login). */
  readonly session: SshConnection | null;
  /** casfleet's on-host timers: an open window whose timer is armed is left to it. */
  readonly timers: readonly HostTimer[];
}

/** Plans the ufw changes from the facts (pure). Throws StepPlanError when the state cannot be reached safely. */
export const planUfwRuleSet = (desired: Desired, { ufw, network, kernel, session, timers }: UfwFacts): StepPlan => {
  if (!ufw.installed) throw new StepPlanError('ufw is not installed on this host (install the ufw package first)');
  if (!session) {
    throw new StepPlanError(
      'cannot tell which SSH connection to keep open: SSH_CONNECTION is not set on the host, so the lock-out check cannot run',
    );
  }
  const sshPort = desired.sshPort === CONNECTION_PORT ? session.serverPort : desired.sshPort;
  const rules = desired.rules.map((rule): ManagedRule => (rule.port === CONNECTION_PORT ? { ...rule, port: session.serverPort } : rule));
  if (!rules.some((rule) => sshAllowed(rule, sshPort))) {
    throw new StepPlanError(`the desired rules have no allow for SSH (tcp port ${sshPort}): enabling ufw would lock you out`);
  }
  // A rule file whose lines are not its tuples' is rewritten from the tuples (what ufw lists, and
  // plans are made from) before anything loads it, so the kernel is judged against that file.
  const mismatches = ruleLinesMismatches(ufw);
  // The iptables backend's chain, while ufw takes over from it, is casfleet's own (iptables-removed.ts removes it next).
  const truth = analyseKernel({
    ufw: withRewrittenRuleLines(ufw, mismatches),
    kernel,
    protectedPorts: desired.protectedPorts.map((p) => (Array.isArray(p) ? p : [p, p])),
    ownChains: [MANAGED_CHAIN],
  });
  const problems = kernelProblems(truth, { backend: 'ufw', ipv6: ufw.ipv6 });
  if (problems.length > 0) throw new StepPlanError(problems.join('; '));
  const warnings: string[] = [];
  const interfaceOf = interfaceResolver(
    rules.map((rule) => rule.interface),
    network,
  );
  const expanded = rules.map((rule, index) => {
    if (rule.from !== undefined && parseCidr(rule.from)?.family === 'v6' && !ufw.ipv6) {
      throw new StepPlanError(`rule #${index + 1} allows from IPv6 ${rule.from} but ufw has IPv6 off (IPV6=no in /etc/default/ufw)`);
    }
    return expandManagedRule(rule, interfaceOf(rule.interface), ufw.ipv6);
  });
  assertInterfacesExist(
    rules.map((rule, index) => ({ iface: interfaceOf(rule.interface), rule: index + 1 })),
    network,
  );
  // An open window whose timer is armed stays until its timer closes it (see ufw-window.ts).
  const held = keepArmedWindows(ufw.rules, expanded, timers, (index) => rules[index]?.allowsWindow === true);
  const { ops, final } = reconcileRules(ufw.rules, held.desired, ufw.ipv6, sshPort);
  const enable = !ufw.enabled || !truth.ufwLoaded;
  // Whatever the rule changes, the firewall ends up enabled: SSH must still get in afterwards.
  if (!keepsPortOpen(final.v4, 'v4', sshPort) && !keepsPortOpen(final.v6, 'v6', sshPort)) {
    throw new StepPlanError(
      `refusing to ${enable ? 'enable' : 'change'} ufw: no rule would let SSH (tcp port ${sshPort}) in afterwards (an earlier deny blocks it?)`,
    );
  }
  const guard = { connection: session, rules: final, ipv6: ufw.ipv6, defaultIncoming: desired.defaultIncoming };
  const verdict = checkSshAccess(guard);
  const desiredKeys = new Set(expanded.flatMap((entry) => Object.values(entry).map(matchKey)));
  warnings.push(...unmanagedRuleWarnings(final, desiredKeys, desired.defaultIncoming), ...kernelWarnings(truth, { backend: 'ufw' }));

  const summaries = [
    ...mismatches.map(({ path, detail }) => `~ rewrite ${path} from the rules ufw lists: its rule lines differ from them (${detail})`),
    ...ruleChanges(ops, ufw.ipv6),
  ];
  const words = ops.map((op) => op.words);
  const policyChanges = ufw.defaultIncoming !== desired.defaultIncoming;
  if (policyChanges) {
    words.push(['default', desired.defaultIncoming, 'incoming']);
    summaries.push(`~ default incoming: ${ufw.defaultIncoming} → ${desired.defaultIncoming}`);
  }
  // A policy change or an enable rebuilds every chain from the files anyway.
  const reload = !enable && !policyChanges && truth.drift.length > 0;
  if (reload) {
    words.push(['reload']);
    const shown = truth.drift.slice(0, 3).join('; ') + (truth.drift.length > 3 ? `; and ${truth.drift.length - 3} more` : '');
    summaries.push(`~ reload ufw: the running rules differ from its files (${shown})`);
  }
  if (enable) {
    words.push(['--force', 'enable']);
    summaries.push(ufw.enabled ? '+ enable ufw (enabled in ufw.conf but its rules are not loaded)' : '+ enable ufw');
  }
  const reapplyVpngen = ufw.vpngenRules && (enable || ((policyChanges || reload) && ufw.enabled));
  if (reapplyVpngen) summaries.push(`~ re-apply ${VPNGEN_RULES} (CAS terminal-VPN rules) after the ufw restart`);

  const before = describeState(
    ufw.enabled ? (truth.ufwLoaded ? 'enabled' : 'enabled, rules not loaded') : 'disabled',
    ufw.defaultIncoming,
    ufw.rules,
    truth.drift,
  );
  const diff = { before, after: describeState('enabled', desired.defaultIncoming, final) };
  const changing = words.length > 0 || mismatches.length > 0;
  if (!changing && !verdict.allowed)
    warnings.push(`new SSH logins like this one are already refused: ${lockOutMessage(ufwLockOutInput(guard), verdict, sshPort)}`);
  const extra = { ...(warnings.length > 0 ? { warnings } : {}), ...(held.open.length > 0 ? { openWindows: held.open } : {}) };
  if (!changing) {
    const count = `${final.v4.filter(isManaged).length} v4 + ${final.v6.filter(isManaged).length} v6`;
    const windows = held.open.map((window) => `; open window left to its on-host timer: ${window.rule}`);
    return noChange(
      `ufw enabled, default incoming ${ufw.defaultIncoming}, all ${rules.length} managed rules in place and in order (${count}), the running chains as in its files${windows.join('')}`,
      extra,
    );
  }
  if (!verdict.allowed) throw new StepPlanError(lockOutMessage(ufwLockOutInput(guard), verdict, sshPort));
  // A default policy change or a reload goes through ufw's python, which loads the files as they
  // are: a file to rewrite is written first, and python's operations follow.
  const restarts = policyChanges || reload;
  const files = !restarts
    ? planUfwFileWrite(ufw, ops, final, !enable, mismatches)
    : mismatches.length > 0
      ? planUfwFileWrite(ufw, [], ufw.rules, false, mismatches)
      : undefined;
  if (mismatches.length > 0 && files === undefined) {
    throw new StepPlanError(
      `${mismatches.map(({ path, detail }) => `the rule lines of ${path} differ from the rules ufw lists (${detail})`).join('; ')}; this plan cannot rewrite them without ufw's python, which would load them as they are: restore the file from a backup (/var/backups/casfleet) or have ufw rewrite it (any ufw rule command does)`,
    );
  }
  const command = ufwBatchCommand(words, { reapplyVpngen, ...(files ? { files, pythonAfterFiles: restarts } : {}) });
  const stdin = files ? { stdin: ufwFileWriteStdin(files) } : {};
  const changes: Change[] = summaries.map((summary, i) => (i === 0 ? { summary, command, ...stdin } : { summary, command: NO_COMMAND }));
  return { changes, diff, ...extra };
};

/** The ufw firewall as a whole desired state (default policy, ordered managed rules, enabled). */
export const ufwRuleSet = (args: UfwRuleSetArgs): Step => {
  const desired = parseArgs(ufwRuleSetSchema, args, 'ufwRuleSet');
  return defineStep({
    name: 'firewall (ufw)',
    facts: { ufw: ufwState, network: networkInterfaces, kernel: kernelFirewall, session: sshConnection, timers: hostTimers },
    plan: (facts) => planUfwRuleSet(desired, facts),
    touches: { files: UFW_FILES, firewall: true },
  });
};
