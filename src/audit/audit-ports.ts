// The CAS ports the audit probes from the machine running casfleet (issue #9; research/cas-domain.md
// §1.2): every port of the GB table, both ends of the two VPN ranges (enough to see whether a range
// rule matches), and master's ports on CAS's VPN-side address as well as on the public one.
import { PORTS } from '../cas/firewall-policy.ts';

/** Where a probe goes: the address casfleet connects to, or CAS's VPN-side (master) address. */
export type PortSide = 'public' | 'vpn';

export interface AuditPort {
  /** The key in the report: `7741` (public address) or `7741@vpn` (VPN-side address). */
  readonly key: string;
  readonly port: number;
  readonly side: PortSide;
  readonly what: string;
}

const port = (number: number, what: string, side: PortSide = 'public'): AuditPort => ({
  key: side === 'vpn' ? `${number}@vpn` : String(number),
  port: number,
  side,
  what,
});

export const MASTER_INTERNAL_PORT = 7747;

/** The audited ports in report order; `sshPort` is the port casfleet connects to. */
export const auditPorts = (sshPort: number): AuditPort[] => [
  port(sshPort, 'SSH'),
  port(PORTS.gate, 'gate: terminal pairing'),
  port(PORTS.gate, 'master: paired terminals', 'vpn'),
  port(PORTS.terminalVpn, 'terminal VPN entry'),
  port(PORTS.extensions, 'master REST API / extensions'),
  port(MASTER_INTERNAL_PORT, 'master: gate → master, internal'),
  port(MASTER_INTERNAL_PORT, 'master: gate → master, internal', 'vpn'),
  port(PORTS.adminGui, 'admin GUI'),
  port(PORTS.adminVpn[0], 'administration VPN (first credential)'),
  port(PORTS.adminVpn[1], 'administration VPN (last credential)'),
  port(PORTS.terminalVpnInstances[0], 'terminal VPN instance (first)'),
  port(PORTS.terminalVpnInstances[1], 'terminal VPN instance (last)'),
  port(PORTS.proxy, 'nginx proxy (or admin GUI)'),
];
