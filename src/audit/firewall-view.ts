// The host's firewall as the audit reports it: which backend filters, whether it is on, its default
// policy, and what its rules say per audited port. Backends: ufw (enabled in its files), iptables
// (casfleet's managed chain jumped to from INPUT, with its persistence, iptables-view.ts), or none.
// A disabled ufw with a DROP INPUT policy in the kernel is also reported as iptables (persistence
// unknown), since something other than ufw filters there.
import type { UfwState } from '../facts/ufw.ts';
import { FALLBACK_INTERFACE } from '../steps/ufw-managed-rule.ts';
import type { AuditFacts } from './audit-facts.ts';
import type { AuditPort } from './audit-ports.ts';
import type { FirewallView, KernelView, RuleVerdict } from './audit-schema.ts';
import { chainVerdict, type IptablesView, iptablesFirewall } from './iptables-view.ts';
import { ufwVerdict } from './ufw-verdict.ts';

const filtersInKernel = (kernel: KernelView | null): boolean => kernel?.inputPolicy === 'DROP' || kernel?.inputPolicy === 'REJECT';

/** Backend, state and default policy; null when ufw's state could not be read. */
export const firewallView = (ufw: UfwState | undefined, kernel: KernelView | null, iptables?: IptablesView): FirewallView | null => {
  if (!ufw) return null;
  // Given only while ufw is off and casfleet's chain is hooked (the switch disables ufw first).
  if (iptables) return iptablesFirewall(iptables, kernel);
  if (ufw.installed && ufw.enabled) {
    // Enabled in ufw.conf is not filtering unless its chains are in the kernel (a reboot without the
    // ufw unit, an `iptables -F`); unknown when the tables could not be read.
    return { backend: 'ufw', enabled: kernel?.loaded !== false, defaultIncoming: ufw.defaultIncoming, persistence: null, kernel };
  }
  if (filtersInKernel(kernel)) return { backend: 'iptables', enabled: true, defaultIncoming: 'deny', persistence: null, kernel };
  return { backend: 'none', enabled: false, defaultIncoming: null, persistence: null, kernel };
};

/** What the rules say for every audited port (`@vpn` ports: traffic for the VPN-side address). */
export const rulesView = (
  facts: AuditFacts,
  ports: readonly AuditPort[],
  vpnSideAddress: string | undefined,
  kernel: KernelView | null,
  iptables?: IptablesView,
): Record<string, RuleVerdict> => {
  if (!facts.ufw.ok) return {};
  const ufw = facts.ufw.value;
  const iface = (facts.network.ok ? facts.network.value.defaultRouteInterface : undefined) ?? FALLBACK_INTERFACE;
  const view: Record<string, RuleVerdict> = {};
  for (const port of ports) {
    if (port.side === 'vpn' && !vpnSideAddress) continue;
    const destination = port.side === 'vpn' ? vpnSideAddress : undefined;
    view[port.key] = iptables
      ? chainVerdict(iptables, iface, port.port, destination)
      : ufwVerdict(ufw, iface, port.port, destination, kernel?.loaded !== false);
  }
  return view;
};
