// The GB firewall guide as data: from a scenario's validated vars to the ordered list of managed
// firewall rules, in the order of each backend (UFW, or GB's Option 2 iptables order)
// (research/cas-domain.md §1.2 and §2; [C] = stated by GB, [I] = our inference).
// Pure, so every default is unit-tested and the README tables are checked against it.

import { CONNECTION_PORT, DEFAULT_ROUTE, type ManagedRuleInput } from '../steps/ufw-managed-rule.ts';
import type { CasVars, CommonVars, ScenarioBVars } from './cas-vars.ts';

/** A managed rule as the ufw and iptables steps take it; `interface: 'default-route'` resolves per host. */
export type PolicyRule = ManagedRuleInput;

type PortRange = [number, number];

export const PORTS = {
  gate: 7741,
  terminalVpn: 7742,
  terminalVpnInstances: [13000, 13010] as PortRange,
  adminVpn: [12000, 12050] as PortRange,
  adminGui: 7777,
  extensions: 7743,
  proxy: 443,
} as const;

/**
 * Every CAS port, VPN ranges included ([C] research/cas-domain.md §1.2, 7747 = gate → master,
 * internal): only ufw, as the playbook declares it, may open them. A rule outside ufw accepting
 * one fails the host (see steps/kernel-truth.ts).
 */
export const CAS_PORTS: readonly PortRange[] = [
  [PORTS.gate, PORTS.extensions],
  [7747, 7747],
  [PORTS.adminGui, PORTS.adminGui],
  PORTS.adminVpn,
  PORTS.terminalVpnInstances,
];
/** The comment of Scenario A's closed 7741 rule; a pairing window replaces that rule while it is open. */
export const GATE_CLOSED_COMMENT = 'gate pairing closed';

const allow = (port: PolicyRule['port'], comment: string, extra: Pick<PolicyRule, 'interface' | 'from'> = {}): PolicyRule => ({
  action: 'allow',
  port,
  proto: 'tcp',
  comment,
  ...extra,
});

const deny = (port: PolicyRule['port'], comment: string): PolicyRule => ({ action: 'deny', port, proto: 'tcp', comment });

/**
 * Allow a port from the given sources only, then deny it for everyone else: allows come first since
 * UFW stops at the first match. The explicit deny [I] documents the intent in `ufw status` and
 * keeps the port closed even if the default policy is ever loosened.
 */
const onlyFrom = (port: number, sources: readonly string[], comment: string): PolicyRule[] => [
  ...sources.map((from) => allow(port, comment, { from })),
  deny(port, `${comment}: everyone else`),
];

// Without sshPort, SSH stays on the port this very session uses, resolved on each host at plan time.
const sshRules = (vars: CommonVars): PolicyRule[] => {
  const port = vars.sshPort ?? CONNECTION_PORT;
  return vars.sshAllowFrom ? vars.sshAllowFrom.map((from) => allow(port, 'SSH', { from })) : [allow(port, 'SSH')]; // [C] GB: "sudo ufw allow ssh"
};

const publicInterface = (vars: CommonVars): string => vars.publicInterface ?? DEFAULT_ROUTE;

// The admin GUI, extensions and proxy sections, shared by both scenarios.
const adminAndOptionalRules = (vars: CommonVars): [PolicyRule[], PolicyRule[], PolicyRule[]] => {
  // [C] admin GUI 7777: "block public port 7777 after enabling the Administration VPN".
  const adminGui =
    vars.adminGui === 'open'
      ? [allow(PORTS.adminGui, 'admin GUI (insecure: close once the admin VPN works)')]
      : vars.adminAllowFrom
        ? onlyFrom(PORTS.adminGui, vars.adminAllowFrom, 'admin GUI')
        : [deny(PORTS.adminGui, 'admin GUI closed')];
  // [C] 7743 optional: "when in doubt … keep this port blocked"; Veriff may be restricted to its IPs.
  const extensions =
    vars.extensions === false
      ? [deny(PORTS.extensions, 'extensions closed')]
      : vars.extensions.allowFrom
        ? onlyFrom(PORTS.extensions, vars.extensions.allowFrom, 'extensions')
        : [allow(PORTS.extensions, 'extensions')];
  // [C] 443 optional, for an nginx proxy; closed by the default policy otherwise.
  const proxy = vars.proxy ? [allow(PORTS.proxy, 'nginx proxy')] : [];
  return [adminGui, extensions, proxy];
};

// [C] each admin credential has its own VPN port in 12000:12050; [I] on the public interface.
const adminVpnRule = (vars: CommonVars): PolicyRule => allow(PORTS.adminVpn, 'administration VPN', { interface: publicInterface(vars) });

/**
 * One scenario's policy in the sections of GB's guide. Both backends apply the same sections; only
 * their order differs (see the two orders below), and no two sections share a port, so the order
 * between sections never changes what a packet meets.
 */
interface PolicySections {
  readonly ssh: PolicyRule[];
  readonly adminVpn: PolicyRule[];
  readonly adminGui: PolicyRule[];
  readonly gate: PolicyRule[];
  readonly terminalVpn: PolicyRule[];
  readonly extensions: PolicyRule[];
  readonly proxy: PolicyRule[];
}

type Section = keyof PolicySections;

const commonSections = (vars: CommonVars): Omit<PolicySections, 'gate' | 'terminalVpn'> => {
  const [adminGui, extensions, proxy] = adminAndOptionalRules(vars);
  return { ssh: sshRules(vars), adminVpn: [adminVpnRule(vars)], adminGui, extensions, proxy };
};

const scenarioASections = (vars: CasVars): PolicySections => {
  const iface = publicInterface(vars);
  return {
    ...commonSections(vars),
    terminalVpn: [
      allow(PORTS.terminalVpn, 'terminal VPN', { interface: iface }),
      allow(PORTS.terminalVpnInstances, 'terminal VPN instances', { interface: iface }),
    ],
    // [C] 7741 "should be temporarily accessible from the Internet only when performing a pairing":
    // kept closed, except for a timed window (`casfleet pair`) or while `pairing: true`.
    gate: [
      vars.pairing
        ? allow(PORTS.gate, 'gate pairing window (close after pairing)')
        : { ...deny(PORTS.gate, GATE_CLOSED_COMMENT), allowsWindow: true },
    ],
  };
};

/**
 * Scenario B: terminals come through a hardware VPN router, so CAS's terminal VPN ports stay
 * closed and 7741 (gate and master, [C] SCN-d) is reachable only from the router's networks. No
 * interface is pinned for 7741 [I]: the VPN may arrive on a tunnel interface.
 */
const scenarioBSections = (vars: ScenarioBVars): PolicySections => ({
  ...commonSections(vars),
  gate: onlyFrom(PORTS.gate, vars.hardwareVpnSubnets, 'gate/master via hardware VPN'),
  terminalVpn: [
    deny(PORTS.terminalVpn, 'terminal VPN closed (scenario B)'),
    deny(PORTS.terminalVpnInstances, 'terminal VPN instances closed (scenario B)'),
  ],
});

// The UFW orders casfleet has always written (changing them would move rules on every managed host).
const UFW_ORDER_A: readonly Section[] = ['ssh', 'adminVpn', 'terminalVpn', 'gate', 'adminGui', 'extensions', 'proxy'];
const UFW_ORDER_B: readonly Section[] = ['ssh', 'adminVpn', 'gate', 'terminalVpn', 'adminGui', 'extensions', 'proxy'];
/**
 * [C] GB's iptables order (FW, Option 2: "these rules must be entered in a precise order"): SSH, admin
 * access (the admin VPN, or 7777 for chosen sources), unsecured terminal access 7741, terminal VPN and
 * extensions, then (our addition) the proxy; loopback, established and the final drop frame them
 * (steps/iptables-chain.ts).
 */
const GB_IPTABLES_ORDER: readonly Section[] = ['ssh', 'adminVpn', 'adminGui', 'gate', 'terminalVpn', 'extensions', 'proxy'];

const inOrder = (sections: PolicySections, order: readonly Section[]): PolicyRule[] => order.flatMap((section) => sections[section]);

/** Scenario A: terminals use CAS's built-in OpenVPN on 7742 + 13000:13010 (UFW order). */
export const scenarioARules = (vars: CasVars): PolicyRule[] => inOrder(scenarioASections(vars), UFW_ORDER_A);

/** Scenario B (UFW order); see scenarioBSections. */
export const scenarioBRules = (vars: ScenarioBVars): PolicyRule[] => inOrder(scenarioBSections(vars), UFW_ORDER_B);

/** Scenario A's policy in GB's iptables order, for the iptables backend. */
export const scenarioAIptablesRules = (vars: CasVars): PolicyRule[] => inOrder(scenarioASections(vars), GB_IPTABLES_ORDER);

/** Scenario B's policy in GB's iptables order, for the iptables backend. */
export const scenarioBIptablesRules = (vars: ScenarioBVars): PolicyRule[] => inOrder(scenarioBSections(vars), GB_IPTABLES_ORDER);
