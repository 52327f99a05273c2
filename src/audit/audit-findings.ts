// Findings with a severity, Lynis-style, from everything the audit learnt about one host. Critical
// are the exposures behind GB's incidents (research/cas-domain.md §7: the admin interface on 7777 or
// 443 in 2022, the master service in 2023), a pairing port left open and a host without a firewall;
// warnings are drift from the host's scenario, foreign rules, missing persistence, a mixed scenario,
// stopped services and master's 7741 opened by a pairing window; the rest is information (a pairing
// window that an armed on-host timer closes is why 7741 answers, not an exposure). Messages never name the host, so identical hosts
// read (and group) identically.
import type { CasVars } from '../cas/cas-vars.ts';
import { isWideSource, networkContains, parseNetwork } from '../steps/cidr.ts';
import { overlaps, portRanges } from '../steps/port-ranges.ts';
import { isoSeconds } from '../steps/ufw-window.ts';
import type { Drift, Finding, FirewallView, PortState, RuleVerdict, Scenario, Services, Severity } from './audit-schema.ts';
import type { Detection } from './detect-scenario.ts';
import type { PairingWindowView } from './pairing-view.ts';

export interface FindingsInput {
  readonly reach: { readonly status: 'audited' } | { readonly status: 'unreachable' | 'failed'; readonly error: string };
  readonly sshPort: number;
  readonly detection: Detection;
  readonly firewall: FirewallView | null;
  readonly firewallError?: string;
  /** Why the iptables rules would not come back after a reboot (unit not enabled, rule files stale). */
  readonly persistenceGaps?: readonly string[];
  readonly probes: Readonly<Record<string, PortState>>;
  readonly probeErrors: readonly string[];
  readonly rules: Readonly<Record<string, RuleVerdict>>;
  readonly vpnSideAddress?: string;
  /** The local address the VPN-side ports were probed from, when they were. */
  readonly vpnProbeSource?: string;
  /** The host's vars (defaults filled in), as the scenario playbooks read them. */
  readonly intent: CasVars & { readonly hardwareVpnSubnets?: readonly string[] };
  /** The pairing window open on the host (`casfleet pair`), as `pair --status` reads it. */
  readonly pairingWindow?: PairingWindowView;
  readonly services: Services;
  readonly drift: Drift;
}

const finding = (severity: Severity, code: string, message: string): Finding => ({ severity, code, message });

interface PortConcern {
  readonly key: string;
  readonly what: string;
  /** Code when the port answers from here (critical), and when only the rules let anyone in (warning). */
  readonly exposed: string;
  readonly allowed: string;
  readonly severity: Severity;
  readonly expected: (intent: FindingsInput['intent'], scenario: Scenario) => boolean;
  readonly why: string | ((input: FindingsInput) => string);
}

const CONCERNS: readonly PortConcern[] = [
  {
    key: '7777',
    what: 'admin GUI 7777',
    exposed: 'admin-gui-exposed',
    allowed: 'admin-gui-allowed',
    severity: 'critical',
    expected: (intent) => intent.adminGui === 'open',
    why: "adminGui is not 'open'; GB: block it once the admin VPN works (the 2022 attack came through it)",
  },
  {
    key: '443',
    what: 'port 443',
    exposed: 'admin-443-exposed',
    allowed: 'admin-443-allowed',
    severity: 'critical',
    expected: (intent) => intent.proxy,
    why: 'proxy is not set; GB 2022: the admin interface on 7777 or 443 must be reachable only from trusted IPs',
  },
  {
    key: '7741',
    what: 'gate pairing port 7741',
    exposed: 'pairing-port-open',
    allowed: 'pairing-port-allowed',
    severity: 'critical',
    expected: (intent, scenario) => scenario !== 'B' && intent.pairing,
    why: ({ pairingWindow }) =>
      pairingWindow
        ? `a pairing window was open until ${isoSeconds(pairingWindow.until)} but its timer is gone (${pairingWindow.timer}): nothing closes it before the next scenario-a run (casfleet pair --close closes it now); GB: open it only while pairing`
        : 'no pairing window is open (pairing is not set); GB: open it only while pairing',
  },
  {
    key: '7741@vpn',
    what: "master's 7741 on the VPN-side address",
    exposed: 'master-exposed',
    allowed: 'master-allowed',
    severity: 'critical',
    expected: () => false,
    why: 'GB: master should never be exposed (the 2023 attack came through it)',
  },
  {
    key: '7747',
    what: 'master port 7747',
    exposed: 'master-exposed',
    allowed: 'master-allowed',
    severity: 'critical',
    expected: () => false,
    why: 'gate → master only, never public',
  },
  {
    key: '7747@vpn',
    what: 'master port 7747 on the VPN-side address',
    exposed: 'master-exposed',
    allowed: 'master-allowed',
    severity: 'critical',
    expected: () => false,
    why: 'gate → master only, never from outside',
  },
  {
    key: '7743',
    what: 'extensions port 7743 (master REST API)',
    exposed: 'extensions-open',
    allowed: 'extensions-allowed',
    severity: 'warning',
    expected: (intent) => intent.extensions !== false,
    why: 'extensions are not enabled; GB: keep it blocked unless an extension needs it',
  },
];

const inside = (address: string, networks: readonly string[] | undefined): boolean => {
  const probe = parseNetwork(address);
  return (
    probe !== undefined &&
    (networks ?? []).some((network) => {
      const parsed = parseNetwork(network);
      return parsed !== undefined && networkContains(parsed, probe);
    })
  );
};

/** The foreign rule (quoted) that accepts the port of `key`, when the live tables show one. */
const outsideRule = (input: FindingsInput, key: string): string | undefined => {
  const port = Number.parseInt(key, 10);
  const rule = input.firewall?.kernel?.foreignRules.find((foreign) =>
    foreign.ports.some((ports) => ports === 'all' || overlaps(portRanges(ports), [[port, port]])),
  );
  return rule ? `it is accepted by "${rule.rule}"` : undefined;
};

const GATE_KEYS = ['7741', '7741@vpn'];

/**
 * 7741 in a pairing window that an armed on-host timer closes: gate's port answering is the window
 * doing its job (information). The window's rule is Scenario A's, allowing 7741 on every interface
 * as GB's own `ufw allow 7741/tcp` does, so master's 7741 on the VPN-side address opens with it: a
 * warning that says so, since GB wants master never exposed, but no longer than the window lasts.
 */
const windowFinding = (key: string, window: PairingWindowView, state: PortState | undefined): Finding => {
  const until = isoSeconds(window.until);
  const seen = state === 'open' ? 'answers from here' : state === undefined ? 'is not probed from here' : `is ${state} from here`;
  return key === '7741'
    ? finding(
        'info',
        'pairing-window',
        `gate pairing port 7741 ${seen}: a pairing window is open until ${until} and an on-host timer closes it (casfleet pair --close once the terminal has paired)`,
      )
    : finding(
        'warning',
        'pairing-window-master',
        `master's 7741 on the VPN-side address ${seen} while the pairing window is open (until ${until}): its rule allows 7741 on every interface, master's too; GB: master should never be exposed (the 2023 attack came through it): close the window once the terminal has paired`,
      );
};

const portFindings = (input: FindingsInput): Finding[] => {
  const { probes, rules, intent, detection, pairingWindow } = input;
  return CONCERNS.flatMap((concern): Finding[] => {
    if (concern.expected(intent, detection.scenario)) return [];
    // Probed from inside the host's hardware-VPN networks, the VPN side is meant to answer (Scenario B).
    if (concern.key.endsWith('@vpn') && input.vpnProbeSource && inside(input.vpnProbeSource, intent.hardwareVpnSubnets)) return [];
    const state = probes[concern.key];
    const verdict = rules[concern.key];
    const why = typeof concern.why === 'string' ? concern.why : concern.why(input);
    // The window explains 7741 only where the rules let it through (its allow); one answering despite them does not.
    if (pairingWindow?.closing === 'timer' && GATE_KEYS.includes(concern.key) && verdict?.anyone === 'allow')
      return [windowFinding(concern.key, pairingWindow, state)];
    if (state === 'open') {
      // Allowed by name to some sources only: this machine is presumably one of them. A source wider
      // than a source list may hold (`0.0.0.0/1`, see MIN_SOURCE_PREFIX) is (nearly) everyone, though.
      if (verdict && verdict.anyone === 'block' && verdict.from.length > 0) {
        const wide = verdict.from.filter((from) => {
          const network = parseNetwork(from);
          return network !== undefined && isWideSource(network);
        });
        return [
          wide.length === 0
            ? finding(
                'info',
                `${concern.exposed.replace(/-(exposed|open)$/, '')}-restricted`,
                `${concern.what} answers from here; the rules allow it only from ${verdict.from.join(', ')}`,
              )
            : finding(
                concern.severity,
                concern.exposed,
                `${concern.what} answers from here; the rules allow it from ${wide.join(', ')}, too wide to be a restriction; ${why}`,
              ),
        ];
      }
      const despite =
        verdict?.anyone === 'block'
          ? ` although the ufw rules block it: ${outsideRule(input, concern.key) ?? (input.firewall?.kernel?.inSync === false ? 'the running firewall is not the rules ufw lists (firewall-out-of-sync)' : 'a rule outside ufw lets it through')}`
          : '';
      return [finding(concern.severity, concern.exposed, `${concern.what} answers from here${despite}; ${why}`)];
    }
    // Without a firewall everything is allowed: firewall-disabled says so once.
    if (verdict?.anyone === 'allow' && input.firewall?.backend !== 'none') {
      const seen = state === undefined ? 'not probed from here' : `${state} from here`;
      const severity: Severity = concern.severity === 'critical' ? 'warning' : 'info';
      return [finding(severity, concern.allowed, `the firewall lets anyone reach ${concern.what} (${seen}); ${why}`)];
    }
    return [];
  });
};

const firewallFindings = ({ firewall, firewallError, persistenceGaps }: FindingsInput): Finding[] => {
  if (!firewall)
    return [finding('warning', 'firewall-unread', `the firewall state could not be read: ${firewallError ?? 'unknown error'}`)];
  const found: Finding[] = [];
  if (firewall.backend === 'none') {
    found.push(
      finding(
        'critical',
        'firewall-disabled',
        'no firewall filters incoming traffic (ufw disabled or not installed): every listening port is open to everyone',
      ),
    );
  } else if (!firewall.enabled) {
    found.push(
      finding(
        'critical',
        'firewall-not-loaded',
        `${firewall.backend} is enabled in its configuration but its rules are not loaded in the kernel: nothing is filtered`,
      ),
    );
  }
  if (firewall.enabled && firewall.defaultIncoming === 'allow') {
    found.push(
      finding(
        'warning',
        'default-allow',
        'the default incoming policy is allow: every port no rule denies is open (GB: default deny incoming)',
      ),
    );
  }
  if (firewall.backend === 'iptables' && firewall.persistence === false) {
    const why = persistenceGaps && persistenceGaps.length > 0 ? ` (${persistenceGaps.join('; ')})` : '';
    found.push(
      finding(
        'warning',
        'no-persistence',
        `the running iptables rules are not what is restored at boot${why}: after a reboot the host is open or runs stale rules (GB warns raw iptables is volatile)`,
      ),
    );
  }
  const kernel = firewall.kernel;
  if (kernel) {
    if (kernel.inSync === false) {
      const what = kernel.drift.length > 0 ? `: ${kernel.drift.slice(0, 2).join('; ')}${kernel.drift.length > 2 ? '; …' : ''}` : '';
      found.push(finding('warning', 'firewall-out-of-sync', `the running firewall is not the rules ufw lists${what}`));
    }
    for (const file of kernel.ruleFiles) {
      found.push(
        finding(
          'warning',
          'ufw-rule-file-edited',
          `the rule lines of ${file} differ from the rules ufw lists: the next reload or reboot runs the lines, not what \`ufw status\` shows (an apply rewrites the file from the listed rules)`,
        ),
      );
    }
    for (const reason of kernel.unreadable) found.push(finding('info', 'kernel-unread', `the live tables could not be read: ${reason}`));
    for (const foreign of kernel.foreignRules) {
      found.push(
        finding(
          'warning',
          'foreign-rule',
          `a rule outside ${firewall.backend === 'none' ? 'any firewall tool' : firewall.backend} accepts ${foreign.ports.join(', ')}: ${foreign.rule}`,
        ),
      );
    }
    for (const forwarded of kernel.forwarded) {
      found.push(finding('warning', 'forwarded-port', `CAS port ${forwarded.port} is forwarded past the INPUT rules: ${forwarded.rule}`));
    }
  }
  return found;
};

const scenarioFindings = ({ detection }: FindingsInput): Finding[] => {
  const evidence = detection.evidence.map((entry) => entry.text).join('; ');
  if (detection.scenario === 'mixed') return [finding('warning', 'mixed-scenario', `half-way between Scenario A and B: ${evidence}`)];
  if (detection.scenario === 'unknown') return [finding('warning', 'unknown-scenario', `the scenario cannot be told: ${evidence}`)];
  return [finding('info', 'scenario', `Scenario ${detection.scenario}: ${evidence}`)];
};

const serviceFindings = ({ services }: FindingsInput): Finding[] =>
  (['gate', 'master', 'admin'] as const).flatMap((service) =>
    services[service] === 'stopped' ? [finding('warning', 'service-stopped', `${service} is stopped (batm-manage info)`)] : [],
  );

const driftFindings = ({ drift }: FindingsInput): Finding[] => {
  const found: Finding[] = [];
  if (drift.error)
    found.push(finding('warning', 'drift-unknown', `no drift computed${drift.against ? ` against ${drift.against}` : ''}: ${drift.error}`));
  const summaries = drift.changes.flatMap((change) => change.summaries.map((summary) => `${change.step}: ${summary}`));
  if (summaries.length > 0) {
    const shown = summaries.slice(0, 3).join('; ');
    found.push(
      finding(
        'warning',
        'drift',
        `${summaries.length} change${summaries.length === 1 ? '' : 's'} to match ${drift.against}: ${shown}${summaries.length > 3 ? '; …' : ''}`,
      ),
    );
  }
  for (const warning of drift.warnings) found.push(finding('warning', 'policy-conflict', warning));
  return found;
};

const sshFindings = ({ probes, rules, sshPort, intent }: FindingsInput): Finding[] => {
  const key = String(sshPort);
  if (intent.sshAllowFrom || rules[key]?.anyone !== 'allow' || probes[key] !== 'open') return [];
  return [finding('info', 'ssh-open', `SSH (${key}) answers from everywhere; sshAllowFrom restricts it (GB: mind the lock-out risk)`)];
};

const ORDER: Readonly<Record<Severity, number>> = { critical: 0, warning: 1, info: 2 };

/** Every finding for one host, the worst first. */
export const hostFindings = (input: FindingsInput): Finding[] => {
  const reach =
    input.reach.status === 'audited'
      ? []
      : [
          finding(
            'warning',
            input.reach.status === 'unreachable' ? 'unreachable' : 'audit-failed',
            `${input.reach.status === 'unreachable' ? 'not reachable over SSH' : 'could not be audited'}: ${input.reach.error}; only the probes from here were made`,
          ),
        ];
  const onHost =
    input.reach.status === 'audited'
      ? [...firewallFindings(input), ...scenarioFindings(input), ...serviceFindings(input), ...driftFindings(input)]
      : [];
  const probeFailures = input.probeErrors.map((error) => finding('warning', 'probe-failed', `some ports could not be probed: ${error}`));
  const found = [...reach, ...probeFailures, ...portFindings(input), ...onHost, ...sshFindings(input)];
  return found
    .filter((entry, index) => found.findIndex((other) => other.code === entry.code && other.message === entry.message) === index)
    .sort((a, b) => ORDER[a.severity] - ORDER[b.severity]);
};

export const severityRank = (severity: Severity): number => ORDER[severity];
