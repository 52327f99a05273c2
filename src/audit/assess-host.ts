// One host's audit entry from what was read on it and probed from outside: pure, so every severity
// is tested from fixture facts.
import type { BatmInfo } from '../facts/batm.ts';
import type { AuditFacts } from './audit-facts.ts';
import { type FindingsInput, hostFindings } from './audit-findings.ts';
import type { Drift, HostAudit, KernelView, PortState, RuleVerdict, Services } from './audit-schema.ts';
import type { Detection } from './detect-scenario.ts';
import { firewallView } from './firewall-view.ts';
import type { IptablesView } from './iptables-view.ts';
import { pairingWindowOf } from './pairing-view.ts';

export interface HostAssessment {
  readonly address: string;
  readonly sshPort: number;
  readonly reach: FindingsInput['reach'];
  /** Undefined when the host could not be read. */
  readonly facts?: AuditFacts;
  readonly kernel: KernelView | null;
  /** casfleet's iptables chain, when INPUT jumps to it. */
  readonly iptables?: IptablesView;
  readonly probes: Readonly<Record<string, PortState>>;
  /** Probes that could not be sent (a bad source address, …). */
  readonly probeErrors: readonly string[];
  readonly rules: Readonly<Record<string, RuleVerdict>>;
  readonly vpnSideAddress?: string;
  readonly vpnProbeSource?: string;
  readonly intent: FindingsInput['intent'];
  readonly detection: Detection;
  readonly drift: Drift;
}

/** gate/master/admin from `batm-manage info`; unknown when it was not read or does not say. */
export const servicesOf = (batm: BatmInfo | undefined): Services => {
  const state = (service: string) => batm?.services[service] ?? 'unknown';
  return { gate: state('gate'), master: state('master'), admin: state('admin') };
};

export const NO_DRIFT: Drift = { against: null, changes: [], warnings: [] };

export const assessHost = (input: HostAssessment): HostAudit => {
  const { facts } = input;
  const firewall = facts?.ufw.ok ? firewallView(facts.ufw.value, input.kernel, input.iptables) : null;
  const gaps = firewall?.backend === 'iptables' ? (input.iptables?.gaps ?? []) : [];
  const services = servicesOf(facts?.batm.ok ? facts.batm.value : undefined);
  const pairingWindow = facts ? pairingWindowOf(facts) : undefined;
  const findings = hostFindings({
    ...input,
    firewall,
    ...(facts && !facts.ufw.ok ? { firewallError: facts.ufw.error } : {}),
    ...(gaps.length > 0 ? { persistenceGaps: gaps } : {}),
    ...(pairingWindow ? { pairingWindow } : {}),
    services,
  });
  return {
    address: input.address,
    status: input.reach.status,
    ...(input.reach.status === 'audited' ? {} : { error: input.reach.error }),
    scenario: input.detection.scenario,
    evidence: [...input.detection.evidence],
    firewall,
    exposure: { ...input.probes },
    rules: { ...input.rules },
    vpnSide: { address: input.vpnSideAddress ?? null, probedFrom: input.vpnProbeSource ?? null },
    services,
    drift: input.drift,
    findings,
  };
};
