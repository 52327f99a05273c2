// Which interface a managed rule is pinned to on one host. Rules say `default-route` for "the public
// interface": the interface of the IPv4 default route, else eth0 (GB's guide writes eth0 [C] FW).
// Shared by the ufw and iptables planners, so both backends pin the same rules to the same interface.
import { StepPlanError } from '../errors.ts';
import type { NetworkState } from '../facts/network.ts';
import { DEFAULT_ROUTE, FALLBACK_INTERFACE } from './ufw-managed-rule.ts';

/** Resolves a rule's `interface` ('' for none); see interfaceResolver. */
export type InterfaceOf = (name: string | undefined) => string;

/**
 * The resolver for one host. Throws StepPlanError when `default-route` is wanted but the host has
 * no default route and no eth0: a rule pinned to an interface that does not exist matches nothing,
 * so the VPN ports would silently be closed.
 */
export const interfaceResolver = (wanted: readonly (string | undefined)[], network: NetworkState): InterfaceOf => {
  const publicInterface = network.defaultRouteInterface ?? FALLBACK_INTERFACE;
  if (wanted.includes(DEFAULT_ROUTE) && !network.defaultRouteInterface && network.interfaces.length > 0 && !network.interfaces.includes(FALLBACK_INTERFACE)) {
    throw new StepPlanError(
      `this host has no default route and no ${FALLBACK_INTERFACE}, so the public interface is unknown: set publicInterface (interfaces: ${network.interfaces.join(', ')})`,
    );
  }
  return (name) => (name === DEFAULT_ROUTE ? publicInterface : (name ?? ''));
};

/** A warning when rule `label` names an interface this host does not have (it matches nothing). */
export const missingInterfaceWarning = (iface: string, network: NetworkState, label: string): string | undefined =>
  iface !== '' && network.interfaces.length > 0 && !network.interfaces.includes(iface)
    ? `${label} names interface ${iface}, which does not exist on this host: it matches nothing`
    : undefined;
