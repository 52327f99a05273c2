// Hosts the audit saw identically (same scenario, exposure, rules, firewall, services, drift and
// findings: everything but their own addresses) form one group, so a fleet of fifty identical servers reads
// as one row. Groups keep the order of their first host (inventory order).
import type { AuditReport, HostAudit } from './audit-schema.ts';

export interface HostGroup {
  readonly hosts: readonly string[];
  /** The first host's audit: every host of the group has the same one, addresses aside. */
  readonly audit: HostAudit;
}

// The address and the local address the VPN side was probed from differ per host by nature.
const groupKey = ({ address: _address, vpnSide, ...rest }: HostAudit): string => JSON.stringify({ ...rest, vpnSide: vpnSide.address });

export const groupHosts = (report: Pick<AuditReport, 'hosts'>): HostGroup[] => {
  const groups = new Map<string, { hosts: string[]; audit: HostAudit }>();
  for (const [name, audit] of Object.entries(report.hosts)) {
    const key = groupKey(audit);
    const group = groups.get(key);
    if (group) group.hosts.push(name);
    else groups.set(key, { hosts: [name], audit });
  }
  return [...groups.values()];
};

/** Every exposure key any host has, by port number, the public address before the VPN side. */
export const exposureColumns = (report: Pick<AuditReport, 'hosts'>): string[] => {
  const columns = new Set<string>();
  for (const audit of Object.values(report.hosts)) for (const key of Object.keys(audit.exposure)) columns.add(key);
  const order = (key: string): number => Number.parseInt(key, 10) * 2 + (key.endsWith('@vpn') ? 1 : 0);
  return [...columns].sort((a, b) => order(a) - order(b));
};
