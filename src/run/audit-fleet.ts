// `casfleet audit` over the fleet: per host, in parallel (p-limit on forks), ONE connection and ONE
// exec (the audit's facts and both scenario playbooks' step facts in a single gather script), port
// probes from this machine sent while the host is read, then the pure analysis (src/audit/). Nothing
// on a host is changed: no apply exec, no backup, no service call other than `batm-manage info`.
import pLimit from 'p-limit';
import { assessHost, type HostAssessment } from '../audit/assess-host.ts';
import { AUDIT_FACTS, type AuditFacts, readAuditFacts, vpnSideAddressOf } from '../audit/audit-facts.ts';
import { type AuditPort, auditPorts } from '../audit/audit-ports.ts';
import type { AuditReport, HostAudit, KernelView, PortState } from '../audit/audit-schema.ts';
import { summarizeAudit } from '../audit/audit-summary.ts';
import { detectScenario, driftPlaybookFor, type ScenarioPlaybook } from '../audit/detect-scenario.ts';
import { rulesView } from '../audit/firewall-view.ts';
import { iptablesViewOf } from '../audit/iptables-view.ts';
import { kernelView } from '../audit/kernel-view.ts';
import type { Become } from '../command/shell.ts';
import type { AnyFact } from '../facts/fact.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import { probePorts } from '../net/probe.ts';
import type { Connection, ConnectOptions } from '../ssh/connection.ts';
import { isFlushHandlers, type Step } from '../steps/step.ts';
import { auditDrift, type HostPlaybook } from './audit-drift.ts';
import { HostSession } from './host-session.ts';
import { describeError, factsOf, uniqueFacts } from './plan-step.ts';

/** The firewall backends a scenario playbook is built for (its `firewall` var). */
export const FIREWALL_BACKENDS = ['ufw', 'iptables'] as const;
export type FirewallBackend = (typeof FIREWALL_BACKENDS)[number];

export interface AuditTarget {
  readonly name: string;
  readonly connect: ConnectOptions;
  readonly become: Become;
  /** Local address to probe the host's VPN-side address from (inventory `casfleet_vpn_probe_from`). */
  readonly vpnProbeSource?: string;
  /** The scenario playbooks built with this host's vars for each backend, or why they could not be. */
  readonly playbooks: Readonly<Record<ScenarioPlaybook, Readonly<Record<FirewallBackend, HostPlaybook>>>>;
  readonly intent: HostAssessment['intent'];
}

export interface AuditOptions {
  readonly forks: number;
  readonly connect: (options: ConnectOptions) => Promise<Connection>;
  readonly gatherTimeoutMs: number;
  /** No answer within this long = filtered. */
  readonly probeTimeoutMs: number;
}

/** One host's audit plus everything read in its gather (the support bundle adds its own facts to it). */
export interface HostAuditResult {
  readonly audit: HostAudit;
  readonly outcomes: ReadonlyMap<string, FactOutcome>;
}

const stepFacts = (playbook: HostPlaybook): AnyFact[] =>
  'error' in playbook ? [] : playbook.items.filter((item): item is Step => !isFlushHandlers(item)).flatMap((step) => factsOf(step.facts));

/** Every fact the audit of `target` reads, plus `extra`, each once. */
export const auditFactsFor = (target: AuditTarget, extra: readonly AnyFact[] = []): AnyFact[] =>
  uniqueFacts([
    ...Object.values(AUDIT_FACTS),
    ...Object.values(target.playbooks).flatMap((built) => Object.values(built).flatMap(stepFacts)),
    ...extra,
  ]);

const probe = async (
  address: string,
  ports: readonly AuditPort[],
  timeoutMs: number,
  sourceAddress?: string,
): Promise<Record<string, PortState>> => {
  if (ports.length === 0) return {};
  const results = await probePorts({
    address,
    ports: ports.map((port) => port.port),
    timeoutMs,
    ...(sourceAddress ? { sourceAddress } : {}),
  });
  return Object.fromEntries(ports.map((port, index) => [port.key, results[index]!.state]));
};

// Reads the host in one exec; the connection is closed before the analysis.
const gather = async (target: AuditTarget, options: AuditOptions, facts: readonly AnyFact[]) => {
  let connection: Connection;
  try {
    connection = await options.connect(target.connect);
  } catch (error) {
    return { reach: { status: 'unreachable' as const, error: describeError(error) } };
  }
  try {
    const session = new HostSession(connection, {
      become: target.become,
      gatherTimeoutMs: options.gatherTimeoutMs,
      applyTimeoutMs: options.gatherTimeoutMs,
    });
    return { reach: { status: 'audited' as const }, outcomes: await session.gather(facts) };
  } catch (error) {
    return { reach: { status: 'failed' as const, error: describeError(error) } };
  } finally {
    await connection.close().catch(() => undefined);
  }
};

/** The live tables judged against ufw's files (or casfleet's chain); null when either could not be read. */
const kernelViewOf = (facts: AuditFacts | undefined, iptablesBackend: boolean): KernelView | null =>
  facts?.ufw.ok && facts.kernel.ok ? kernelView(facts.ufw.value, facts.kernel.value, iptablesBackend) : null;

export interface HostReading {
  readonly target: AuditTarget;
  readonly reach: HostAssessment['reach'];
  /** What the one gather read (empty when the host could not be read). */
  readonly outcomes: ReadonlyMap<string, FactOutcome>;
  readonly probes: Readonly<Record<string, PortState>>;
  readonly probeErrors: readonly string[];
}

/** The analysis of what was read and probed (pure apart from the planners it calls). */
export const analyseHost = ({ target, reach, outcomes, probes, probeErrors }: HostReading): HostAudit => {
  const { host: address, port: sshPort } = target.connect;
  const facts = reach.status === 'audited' ? readAuditFacts(outcomes) : undefined;
  const vpnSideAddress = facts ? vpnSideAddressOf(facts) : undefined;
  // casfleet's chain hooked into INPUT while ufw is off: the iptables backend filters.
  const chain = facts ? iptablesViewOf(facts) : undefined;
  const iptables = chain && facts?.ufw.ok && !(facts.ufw.value.installed && facts.ufw.value.enabled) ? chain : undefined;
  const kernel = kernelViewOf(facts, iptables !== undefined);
  const rules = facts ? rulesView(facts, auditPorts(sshPort), vpnSideAddress, kernel, iptables) : {};
  const detection = facts
    ? detectScenario({ facts, probes, rules })
    : { scenario: 'unknown' as const, evidence: [{ says: null, text: 'the host could not be read' }] };
  const against = driftPlaybookFor(detection, facts);
  const vpnProbed =
    vpnSideAddress !== undefined && target.vpnProbeSource !== undefined && Object.keys(probes).some((key) => key.endsWith('@vpn'));
  return assessHost({
    address,
    sshPort,
    reach,
    ...(facts ? { facts } : {}),
    kernel,
    ...(iptables ? { iptables } : {}),
    probes,
    probeErrors,
    rules,
    ...(vpnSideAddress ? { vpnSideAddress } : {}),
    ...(vpnProbed ? { vpnProbeSource: target.vpnProbeSource } : {}),
    intent: target.intent,
    detection,
    // Planned with the backend the host runs, so a converged iptables host shows no drift.
    drift: auditDrift(facts ? against : null, against ? target.playbooks[against][iptables ? 'iptables' : 'ufw'] : undefined, outcomes),
  });
};

/** Audits one host: gather and public probes at once, then the VPN-side probes, then the analysis. */
export const auditHost = async (
  target: AuditTarget,
  options: AuditOptions,
  extraFacts: readonly AnyFact[] = [],
): Promise<HostAuditResult> => {
  const ports = auditPorts(target.connect.port);
  const probeErrors: string[] = [];
  const probing = probe(
    target.connect.host,
    ports.filter((port) => port.side === 'public'),
    options.probeTimeoutMs,
  ).catch((error: unknown) => {
    probeErrors.push(describeError(error));
    return {};
  });
  const read = await gather(target, options, auditFactsFor(target, extraFacts));
  const outcomes: ReadonlyMap<string, FactOutcome> = read.outcomes ?? new Map();
  const vpnSideAddress = read.outcomes ? vpnSideAddressOf(readAuditFacts(read.outcomes)) : undefined;
  const vpnPorts = ports.filter((port) => port.side === 'vpn');
  const vpnProbes =
    vpnSideAddress && target.vpnProbeSource
      ? await probe(vpnSideAddress, vpnPorts, options.probeTimeoutMs, target.vpnProbeSource).catch((error: unknown) => {
          probeErrors.push(describeError(error));
          return {};
        })
      : {};
  const probes = { ...(await probing), ...vpnProbes };
  const audit = analyseHost({ target, reach: read.reach, outcomes, probes, probeErrors });
  return { audit, outcomes };
};

/** Audits every target in parallel and summarises; hosts keep the targets' (inventory) order. */
export const auditFleet = async (targets: readonly AuditTarget[], options: AuditOptions): Promise<AuditReport> => {
  const started = new Date();
  const limit = pLimit(Math.max(1, options.forks));
  const audits = await Promise.all(targets.map((target) => limit(async () => (await auditHost(target, options)).audit)));
  return auditReport(started, Object.fromEntries(targets.map((target, index) => [target.name, audits[index]!])));
};

/** The report of audits that started at `started` and end now. */
export const auditReport = (started: Date, hosts: Record<string, HostAudit>): AuditReport => ({
  auditedAt: started.toISOString(),
  durationMs: Date.now() - started.getTime(),
  hosts,
  summary: summarizeAudit(hosts),
});
