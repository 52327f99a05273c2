// The GB firewall guide as data: from a scenario's validated vars to the ordered list of managed
// UFW rules (research/cas-domain.md §1.2 and §2; [C] = stated by GB, [I] = our inference).
// Pure, so every default is unit-tested and the README tables are checked against it.

import { CONNECTION_PORT, DEFAULT_ROUTE, type ManagedRuleInput } from '../steps/ufw-managed-rule.ts';
import type { CasVars, CommonVars, ScenarioBVars } from './cas-vars.ts';


/** A managed UFW rule as the ufw step takes it; `interface: 'default-route'` resolves per host. */
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
  return vars.sshAllowFrom
    ? vars.sshAllowFrom.map((from) => allow(port, 'SSH', { from }))
    : [allow(port, 'SSH')]; // [C] GB: "sudo ufw allow ssh"
};

const publicInterface = (vars: CommonVars): string => vars.publicInterface ?? DEFAULT_ROUTE;

// Rules shared by both scenarios, after SSH and the scenario's terminal rules.
const adminAndOptionalRules = (vars: CommonVars): PolicyRule[] => {
  const rules: PolicyRule[] = [];
  // [C] admin GUI 7777: "block public port 7777 after enabling the Administration VPN".
  if (vars.adminGui === 'open') rules.push(allow(PORTS.adminGui, 'admin GUI (insecure: close once the admin VPN works)'));
  else if (vars.adminAllowFrom) rules.push(...onlyFrom(PORTS.adminGui, vars.adminAllowFrom, 'admin GUI'));
  else rules.push(deny(PORTS.adminGui, 'admin GUI closed'));
  // [C] 7743 optional: "when in doubt … keep this port blocked"; Veriff may be restricted to its IPs.
  if (vars.extensions === false) rules.push(deny(PORTS.extensions, 'extensions closed'));
  else if (vars.extensions.allowFrom) rules.push(...onlyFrom(PORTS.extensions, vars.extensions.allowFrom, 'extensions'));
  else rules.push(allow(PORTS.extensions, 'extensions'));
  // [C] 443 optional, for an nginx proxy; closed by the default policy otherwise.
  if (vars.proxy) rules.push(allow(PORTS.proxy, 'nginx proxy'));
  return rules;
};

// [C] each admin credential has its own VPN port in 12000:12050; [I] on the public interface.
const adminVpnRule = (vars: CommonVars): PolicyRule =>
  allow(PORTS.adminVpn, 'administration VPN', { interface: publicInterface(vars) });

/** Scenario A: terminals use CAS's built-in OpenVPN on 7742 + 13000:13010. */
export const scenarioARules = (vars: CasVars): PolicyRule[] => {
  const iface = publicInterface(vars);
  return [
    ...sshRules(vars),
    adminVpnRule(vars),
    allow(PORTS.terminalVpn, 'terminal VPN', { interface: iface }),
    allow(PORTS.terminalVpnInstances, 'terminal VPN instances', { interface: iface }),
    // [C] 7741 "should be temporarily accessible from the Internet only when performing a pairing".
    vars.pairing ? allow(PORTS.gate, 'gate pairing window (close after pairing)') : deny(PORTS.gate, 'gate pairing closed'),
    ...adminAndOptionalRules(vars),
  ];
};

/**
 * Scenario B: terminals come through a hardware VPN router, so CAS's terminal VPN ports stay
 * closed and 7741 (gate and master, [C] SCN-d) is reachable only from the router's networks. No
 * interface is pinned for 7741 [I]: the VPN may arrive on a tunnel interface.
 */
export const scenarioBRules = (vars: ScenarioBVars): PolicyRule[] => [
  ...sshRules(vars),
  adminVpnRule(vars),
  ...onlyFrom(PORTS.gate, vars.hardwareVpnSubnets, 'gate/master via hardware VPN'),
  deny(PORTS.terminalVpn, 'terminal VPN closed (scenario B)'),
  deny(PORTS.terminalVpnInstances, 'terminal VPN instances closed (scenario B)'),
  ...adminAndOptionalRules(vars),
];
