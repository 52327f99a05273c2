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
  if (
    wanted.includes(DEFAULT_ROUTE) &&
    !network.defaultRouteInterface &&
    network.interfaces.length > 0 &&
    !network.interfaces.includes(FALLBACK_INTERFACE)
  ) {
    throw new StepPlanError(
      `this host has no default route and no ${FALLBACK_INTERFACE}, so the public interface is unknown: set publicInterface (interfaces: ${network.interfaces.join(', ')})`,
    );
  }
  return (name) => (name === DEFAULT_ROUTE ? publicInterface : (name ?? ''));
};

/** A rule's resolved interface ('' for none), by rule number, or another pinned thing by its name. */
export type Pinned = { readonly iface: string } & ({ readonly rule: number } | { readonly label: string });

/**
 * Throws StepPlanError naming every interface that does not exist on this host and what is pinned
 * to it: such a rule would match nothing (an allow silently closed, a drop silently open).
 */
export const assertInterfacesExist = (pinned: readonly Pinned[], network: NetworkState): void => {
  if (network.interfaces.length === 0) return;
  const missing = new Map<string, Pinned[]>();
  for (const entry of pinned) {
    if (entry.iface !== '' && !network.interfaces.includes(entry.iface))
      missing.set(entry.iface, [...(missing.get(entry.iface) ?? []), entry]);
  }
  if (missing.size === 0) return;
  const named = [...missing].map(([iface, entries]) => {
    const rules = entries.flatMap((entry) => ('rule' in entry ? [entry.rule] : []));
    const labels = entries.flatMap((entry) => ('label' in entry ? [entry.label] : []));
    const parts = [...(rules.length > 0 ? [`rule${rules.length > 1 ? 's' : ''} #${rules.join(', #')}`] : []), ...labels];
    return `${iface} (${parts.join(', ')})`;
  });
  throw new StepPlanError(
    `interface ${named.join(' and ')} does not exist on this host, so those rules would match nothing; its interfaces are: ${network.interfaces.join(', ')} (check publicInterface)`,
  );
};
