// What `audit` and `support-bundle` share: the selected hosts turned into audit targets. Each host's
// vars are validated against BOTH scenario playbooks (its scenario is known only once it was read);
// a host whose vars fit neither is still audited, its drift then says why it cannot be computed. Each
// playbook is built for both firewall backends: the drift is planned with the backend the host runs.
import { scenarioAVarsSchema } from '../cas/cas-vars.ts';
import { formatSourceIssue, UsageError } from '../errors.ts';
import { turnTaker } from '../event-loop-turn.ts';
import type { AnyPlaybook, PlaybookItem } from '../playbook/define-playbook.ts';
import { hostPlaybookIssues } from '../playbook/host-playbook.ts';
import { checkExtraVarNames } from '../playbook/host-vars.ts';
import { loadPlaybook } from '../playbook/load-playbook.ts';
import type { HostPlaybook } from '../run/audit-drift.ts';
import { type AuditTarget, FIREWALL_BACKENDS, type FirewallBackend } from '../run/audit-fleet.ts';
import { parseCidr } from '../steps/cidr.ts';
import type { Handler } from '../steps/step.ts';
import type { PreparedFleet } from './prepare-run.ts';

const SCENARIO_PLAYBOOKS = ['scenario-a', 'scenario-b'] as const;

const describeIssues = (issues: readonly { path: PropertyKey[]; message: string }[], vars: Record<string, unknown>): string =>
  issues
    .map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${issue.path.map(String).join('.')}: ${key in vars ? issue.message : 'required (set it in the inventory or with -e)'}`;
    })
    .join('; ');

const buildFor = (playbook: AnyPlaybook, vars: Record<string, unknown>): { playbook: HostPlaybook; parsed?: Record<string, unknown> } => {
  const parsed = playbook.vars.safeParse(vars);
  if (!parsed.success) return { playbook: { error: `vars invalid for ${playbook.name}: ${describeIssues(parsed.error.issues, vars)}` } };
  let built: { items: readonly PlaybookItem[]; handlers: Readonly<Record<string, Handler>> };
  try {
    built = { items: playbook.steps(parsed.data), handlers: playbook.handlers?.(parsed.data) ?? {} };
  } catch (error) {
    return { playbook: { error: `${playbook.name} failed to build its steps: ${error instanceof Error ? error.message : String(error)}` } };
  }
  const issues = hostPlaybookIssues(playbook.name, built.items, built.handlers);
  if (issues.length > 0)
    return { playbook: { error: `${playbook.name} built steps that cannot run: ${issues.map(formatSourceIssue).join('; ')}` } };
  return { playbook: built, parsed: parsed.data };
};

const probeSource = (value: unknown, host: string): string | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || parseCidr(value)?.family !== 'v4' || value.includes('/')) {
    throw new UsageError(`casfleet_vpn_probe_from of ${host} must be an IPv4 address of this machine, got ${JSON.stringify(value)}`);
  }
  return value;
};

/** Loads both scenario playbooks and builds every selected host's audit target (nothing is contacted). */
export const buildAuditTargets = async (fleet: PreparedFleet, cwd: string): Promise<AuditTarget[]> => {
  const playbooks = await Promise.all(SCENARIO_PLAYBOOKS.map((name) => loadPlaybook(name, cwd)));
  checkExtraVarNames(playbooks, fleet.extra);
  // Six step sets per host (two playbooks, as read and per firewall backend), about 1 ms: built in
  // one task, a 50-host lab audit's longest event-loop stall (122-144 ms in 6 runs; 45-72 with turns).
  const takeTurn = turnTaker();
  const targets: AuditTarget[] = [];
  for (const { host, connect, become } of fleet.access) {
    await takeTurn();
    const vars = { ...host.vars, ...fleet.extra.vars };
    const [a, b] = playbooks.map((playbook) => buildFor(playbook, vars));
    const perBackend = (playbook: AnyPlaybook) =>
      Object.fromEntries(FIREWALL_BACKENDS.map((firewall) => [firewall, buildFor(playbook, { ...vars, firewall }).playbook])) as Record<
        FirewallBackend,
        HostPlaybook
      >;
    // The host's intent (adminGui, pairing, proxy…): as Scenario A reads it, else as B does, else the defaults.
    const common = scenarioAVarsSchema.safeParse(a?.parsed ?? b?.parsed ?? {});
    const intent = {
      ...(common.success ? common.data : scenarioAVarsSchema.parse({})),
      ...(b?.parsed ? { hardwareVpnSubnets: b.parsed.hardwareVpnSubnets as string[] } : {}),
    };
    const vpnProbeSource = probeSource(host.vars.casfleet_vpn_probe_from, host.name);
    targets.push({
      name: host.name,
      connect,
      become,
      ...(vpnProbeSource ? { vpnProbeSource } : {}),
      playbooks: { 'scenario-a': perBackend(playbooks[0]!), 'scenario-b': perBackend(playbooks[1]!) },
      intent,
    });
  }
  return targets;
};
