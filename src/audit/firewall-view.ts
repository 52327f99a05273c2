// The host's firewall as the audit reports it: which backend filters, whether it is on, its default
// policy, and what its rules say per audited port. Backends today: ufw, or none; the iptables backend
// (issue #8) will report `iptables` with its persistence. A disabled ufw with a DROP INPUT policy in
// the kernel is reported as iptables, since something other than ufw filters there.
import type { UfwState } from '../facts/ufw.ts';
import { FALLBACK_INTERFACE } from '../steps/ufw-managed-rule.ts';
import type { FirewallView, KernelView, RuleVerdict } from './audit-schema.ts';
import type { AuditFacts } from './audit-facts.ts';
import type { AuditPort } from './audit-ports.ts';
import { ufwVerdict } from './ufw-verdict.ts';

const filtersInKernel = (kernel: KernelView | null): boolean => kernel?.inputPolicy === 'DROP' || kernel?.inputPolicy === 'REJECT';

/** Backend, state and default policy; null when ufw's state could not be read. */
export const firewallView = (ufw: UfwState | undefined, kernel: KernelView | null): FirewallView | null => {
  if (!ufw) return null;
  if (ufw.installed && ufw.enabled) {
    // Enabled in ufw.conf is not filtering unless its chains are in the kernel (a reboot without the
    // ufw unit, an `iptables -F`); unknown when the tables could not be read.
    return { backend: 'ufw', enabled: kernel?.loaded !== false, defaultIncoming: ufw.defaultIncoming, persistence: null, kernel };
  }
  if (filtersInKernel(kernel)) return { backend: 'iptables', enabled: true, defaultIncoming: 'deny', persistence: null, kernel };
  return { backend: 'none', enabled: false, defaultIncoming: null, persistence: null, kernel };
};

/** What the rules say for every audited port (`@vpn` ports: traffic for the VPN-side address). */
export const rulesView = (facts: AuditFacts, ports: readonly AuditPort[], vpnSideAddress: string | undefined, kernel: KernelView | null): Record<string, RuleVerdict> => {
  if (!facts.ufw.ok) return {};
  const ufw = facts.ufw.value;
  const iface = (facts.network.ok ? facts.network.value.defaultRouteInterface : undefined) ?? FALLBACK_INTERFACE;
  const view: Record<string, RuleVerdict> = {};
  for (const port of ports) {
    if (port.side === 'vpn' && !vpnSideAddress) continue;
    view[port.key] = ufwVerdict(ufw, iface, port.port, port.side === 'vpn' ? vpnSideAddress : undefined, kernel?.loaded !== false);
  }
  return view;
};
