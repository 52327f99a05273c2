// The facts an audit reads on every host, in the one gather exec it makes (the scenario playbooks'
// own step facts are added to the same exec for the drift): the firewall (ufw's files, the live
// tables and the iptables backend's boot files), the interfaces, CAS's files, `batm-manage info` and
// casfleet's on-host timers.
// Nothing here changes the host.
import { GATE_PROPERTIES, VPN_FILE, VPN_SKIP_KEY } from '../cas/gate-files.ts';
import { type InterfaceAddress, interfaceAddresses } from '../facts/addresses.ts';
import { type BatmInfo, batmInfo } from '../facts/batm.ts';
import type { AnyFact } from '../facts/fact.ts';
import { type FileState, fileFact } from '../facts/file.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import { type KernelFirewall, kernelFirewall } from '../facts/kernel-firewall.ts';
import { type NetworkState, networkInterfaces } from '../facts/network.ts';
import { type UfwState, ufwState } from '../facts/ufw.ts';
import { type HostTimer, hostTimers } from '../host-timer/host-timers.ts';
import { parseCidr } from '../steps/cidr.ts';
import { BOOT_UNIT_LINK, RULES_FILES } from '../steps/iptables-boot.ts';
import { parseProperties } from '../steps/properties-edit.ts';

/** CAS's per-service bind addresses ([C] research/cas-domain.md §1.3). */
export const CAS_NETWORK_FILE = '/batm/config/network';

export const AUDIT_FACTS = {
  ufw: ufwState,
  kernel: kernelFirewall,
  network: networkInterfaces,
  addresses: interfaceAddresses,
  gateProperties: fileFact(GATE_PROPERTIES),
  vpnFile: fileFact(VPN_FILE),
  casNetwork: fileFact(CAS_NETWORK_FILE),
  batm: batmInfo,
  // The same facts as the iptables step's (one read each): its boot files and the enabling link.
  bootRulesV4: fileFact(RULES_FILES.v4),
  bootRulesV6: fileFact(RULES_FILES.v6),
  bootLink: fileFact(BOOT_UNIT_LINK),
  // casfleet's on-host timers: a pairing window whose timer is armed explains an open 7741.
  timers: hostTimers,
} as const satisfies Record<string, AnyFact>;

/** The audit's facts as read: a value, or the reason it could not be read. */
export type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export interface AuditFacts {
  readonly ufw: Read<UfwState>;
  readonly kernel: Read<KernelFirewall>;
  readonly network: Read<NetworkState>;
  readonly addresses: Read<readonly InterfaceAddress[]>;
  readonly gateProperties: Read<FileState>;
  readonly vpnFile: Read<FileState>;
  readonly casNetwork: Read<FileState>;
  readonly batm: Read<BatmInfo>;
  readonly bootRulesV4: Read<FileState>;
  readonly bootRulesV6: Read<FileState>;
  readonly bootLink: Read<FileState>;
  readonly timers: Read<readonly HostTimer[]>;
}

const read = <T>(outcomes: ReadonlyMap<string, FactOutcome>, fact: AnyFact): Read<T> => {
  const outcome = outcomes.get(fact.id);
  if (!outcome) return { ok: false, error: `fact ${fact.id} was not gathered` };
  return outcome.ok ? { ok: true, value: outcome.value as T } : { ok: false, error: outcome.error.message };
};

/** The audit's facts from one gather's outcomes. */
export const readAuditFacts = (outcomes: ReadonlyMap<string, FactOutcome>): AuditFacts => ({
  ufw: read(outcomes, AUDIT_FACTS.ufw),
  kernel: read(outcomes, AUDIT_FACTS.kernel),
  network: read(outcomes, AUDIT_FACTS.network),
  addresses: read(outcomes, AUDIT_FACTS.addresses),
  gateProperties: read(outcomes, AUDIT_FACTS.gateProperties),
  vpnFile: read(outcomes, AUDIT_FACTS.vpnFile),
  casNetwork: read(outcomes, AUDIT_FACTS.casNetwork),
  batm: read(outcomes, AUDIT_FACTS.batm),
  bootRulesV4: read(outcomes, AUDIT_FACTS.bootRulesV4),
  bootRulesV6: read(outcomes, AUDIT_FACTS.bootRulesV6),
  bootLink: read(outcomes, AUDIT_FACTS.bootLink),
  timers: read(outcomes, AUDIT_FACTS.timers),
});

/** The value Java would read for `key` (its last occurrence), undefined when absent. */
export const propertyValue = (content: string, key: string): string | undefined =>
  parseProperties(content)
    .entries.filter((entry) => entry.key === key)
    .at(-1)?.value;

/** `batm.vpn-skip` from gate.properties: its value, `absent`, `no-file`, or undefined when unreadable. */
export const vpnSkipOf = (file: Read<FileState>): { readonly value: string } | 'absent' | 'no-file' | undefined => {
  if (!file.ok) return undefined;
  if (!file.value.exists) return 'no-file';
  if (file.value.content === null) return undefined;
  const value = propertyValue(file.value.content, VPN_SKIP_KEY);
  return value === undefined ? 'absent' : { value: value.trim() };
};

const isIpv4 = (text: string): boolean => parseCidr(text)?.family === 'v4' && !text.includes('/');

/**
 * CAS's VPN-side (master) address: `master_bind_ip` in /batm/config/network [C]; failing that, an
 * IPv4 address on an interface that is neither loopback nor the default route's: CAS binds master on
 * a private address of a local device the VPNs reach [I].
 */
export const vpnSideAddressOf = (facts: AuditFacts): string | undefined => {
  const file = facts.casNetwork;
  if (file.ok && file.value.exists && file.value.content !== null) {
    const master = propertyValue(file.value.content, 'master_bind_ip')?.trim();
    if (master && isIpv4(master)) return master;
  }
  if (!facts.addresses.ok) return undefined;
  const publicInterface = facts.network.ok ? facts.network.value.defaultRouteInterface : undefined;
  return facts.addresses.value.find(
    (entry) => entry.interface !== 'lo' && entry.interface !== publicInterface && !entry.address.startsWith('127.'),
  )?.address;
};
