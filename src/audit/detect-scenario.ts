// Which scenario a host is in, from what CAS's own files say and what the terminal-VPN ports do,
// with the evidence (GB Scenario page [C]: Scenario B = `batm.vpn-skip=true` AND /batm/config/vpn
// removed AND the terminal VPN unused; Scenario A = the opposite). Every observation points to A or
// B; when they disagree the host is "mixed" (say vpn-skip is true but the VPN file is still there,
// or the terminal-VPN ports still answer while gate no longer hands out VPN configs).
import { PORTS } from '../cas/firewall-policy.ts';
import { GATE_PROPERTIES, VPN_FILE, VPN_SKIP_KEY } from '../cas/gate-files.ts';
import { type AuditFacts, vpnSkipOf } from './audit-facts.ts';
import type { Evidence, PortState, RuleVerdict, Scenario } from './audit-schema.ts';

export interface Detection {
  readonly scenario: Scenario;
  readonly evidence: readonly Evidence[];
}

export interface DetectionInput {
  readonly facts: AuditFacts;
  readonly probes: Readonly<Record<string, PortState>>;
  /** The rules' verdict per port key, used when a port was not probed. */
  readonly rules: Readonly<Record<string, RuleVerdict>>;
}

const vpnSkipEvidence = (facts: AuditFacts): Evidence | undefined => {
  const vpnSkip = vpnSkipOf(facts.gateProperties);
  if (vpnSkip === undefined) return undefined;
  if (vpnSkip === 'no-file') return { says: 'A', text: `${GATE_PROPERTIES} does not exist yet, so ${VPN_SKIP_KEY} is off` };
  if (vpnSkip === 'absent') return { says: 'A', text: `${VPN_SKIP_KEY} is not set in ${GATE_PROPERTIES}` };
  const on = vpnSkip.value.toLowerCase() === 'true';
  return { says: on ? 'B' : 'A', text: `${VPN_SKIP_KEY}=${vpnSkip.value} in ${GATE_PROPERTIES}` };
};

const vpnFileEvidence = (facts: AuditFacts): Evidence | undefined => {
  if (!facts.vpnFile.ok) return undefined;
  return facts.vpnFile.value.exists
    ? { says: 'A', text: `${VPN_FILE} is present (gate hands out terminal VPN configs)` }
    : { says: 'B', text: `${VPN_FILE} is absent` };
};

const REACHABLE: readonly PortState[] = ['open', 'closed'];

// Probed from here when possible (the outside truth); otherwise what the rules say for anyone.
const terminalVpnEvidence = ({ probes, rules }: DetectionInput): Evidence | undefined => {
  const keys = [String(PORTS.terminalVpn), String(PORTS.terminalVpnInstances[0])];
  const probed = keys.filter((key) => probes[key] !== undefined);
  if (probed.length > 0) {
    const through = probed.filter((key) => REACHABLE.includes(probes[key]!));
    return through.length > 0
      ? {
          says: 'A',
          text: `terminal VPN port${through.length > 1 ? 's' : ''} ${through.join(', ')} ${through.length > 1 ? 'answer' : 'answers'} from here`,
        }
      : { says: 'B', text: `terminal VPN ports ${probed.join(', ')} are filtered from here` };
  }
  const allowed = keys.filter((key) => rules[key]?.anyone === 'allow');
  if (keys.every((key) => rules[key] === undefined)) return undefined;
  return allowed.length > 0
    ? { says: 'A', text: `the firewall lets terminal VPN port ${allowed.join(', ')} in for anyone` }
    : { says: 'B', text: 'the firewall blocks the terminal VPN ports' };
};

/** The scenario and the evidence behind it (see the module comment). */
export const detectScenario = (input: DetectionInput): Detection => {
  const { facts } = input;
  const noCas =
    facts.gateProperties.ok &&
    !facts.gateProperties.value.exists &&
    facts.vpnFile.ok &&
    !facts.vpnFile.value.exists &&
    facts.batm.ok &&
    !facts.batm.value.present;
  if (noCas) {
    return {
      scenario: 'unknown',
      evidence: [{ says: null, text: `no CAS installation found (no ${GATE_PROPERTIES}, ${VPN_FILE} or /batm/batm-manage)` }],
    };
  }
  const config = [vpnSkipEvidence(facts), vpnFileEvidence(facts)].filter((entry): entry is Evidence => entry !== undefined);
  const unread = [
    ...(facts.gateProperties.ok ? [] : [{ says: null, text: `${GATE_PROPERTIES} could not be read: ${facts.gateProperties.error}` }]),
    ...(facts.vpnFile.ok ? [] : [{ says: null, text: `${VPN_FILE} could not be read: ${facts.vpnFile.error}` }]),
  ];
  const ports = terminalVpnEvidence(input);
  const evidence = [...config, ...unread, ...(ports ? [ports] : [])];
  // The ports alone do not tell a CAS server's scenario: a host with a VPN-router-only firewall and
  // unreadable CAS files is not "B".
  if (config.length === 0) return { scenario: 'unknown', evidence };
  const says = new Set(evidence.map((entry) => entry.says).filter((say) => say !== null));
  const scenario: Scenario = says.size === 1 ? ([...says][0] as 'A' | 'B') : 'mixed';
  return { scenario, evidence };
};

export type ScenarioPlaybook = 'scenario-a' | 'scenario-b';

/**
 * The playbook a host's drift is measured against: its scenario's; for a mixed host the one its
 * gate.properties declares (CAS's own intent: vpn-skip on means B); none for an unknown host.
 */
export const driftPlaybookFor = (detection: Detection, facts: AuditFacts | undefined): ScenarioPlaybook | null => {
  if (detection.scenario === 'A') return 'scenario-a';
  if (detection.scenario === 'B') return 'scenario-b';
  if (detection.scenario === 'unknown' || !facts) return null;
  const vpnSkip = vpnSkipOf(facts.gateProperties);
  return typeof vpnSkip === 'object' && vpnSkip.value.toLowerCase() === 'true' ? 'scenario-b' : 'scenario-a';
};
