// What a firewall planner makes of the kernel truth (kernel-truth.ts), for either backend: the states
// no plan may build on (tables it cannot read, INPUT cut off from ufw's chains, a rule outside the
// managed firewall opening a protected port: quoted, never deleted) and the ones worth a warning
// (forwarded CAS ports that never pass INPUT, rules in the legacy backend).
import type { UfwFamily } from '../facts/ufw-tuple.ts';
import type { KernelTruth } from './kernel-truth.ts';
import { formatPorts } from './port-ranges.ts';
import { VPNGEN_RULES } from './vpngen-rules.ts';

export interface KernelVerdictOptions {
  /** What filters: ufw's chains, or the iptables backend's managed chain. */
  readonly backend: 'ufw' | { readonly chain: string };
  /** Whether the backend filters IPv6 (an unreadable IPv6 table only matters then). */
  readonly ipv6: boolean;
}

const iptablesCommand = (family: UfwFamily, table: string, text: string): string =>
  `${family === 'v4' ? 'iptables' : 'ip6tables'}${table === 'filter' ? '' : ` -t ${table}`} ${text.replace(/^-A /, '-D ')}`;

const managedName = (backend: KernelVerdictOptions['backend']): string => (backend === 'ufw' ? 'ufw' : `casfleet's ${backend.chain}`);

/** Kernel states no plan may build on: unreadable tables, INPUT cut off from ufw, foreign rules opening protected ports. */
export const kernelProblems = (truth: KernelTruth, { backend, ipv6 }: KernelVerdictOptions): string[] => {
  const unreadable = (['v4', 'v6'] as const).filter((family) => truth.unreadable[family] && (family === 'v4' || ipv6));
  if (unreadable.length > 0) {
    return [
      `cannot read the live firewall (${unreadable.map((family) => truth.unreadable[family]).join('; ')}): casfleet needs root on the host (log in as root or set ansible_become)`,
    ];
  }
  const problems = (backend === 'ufw' ? truth.ufwUnhooked : []).map(
    (family) =>
      `the ${family === 'v4' ? 'IPv4' : 'IPv6'} INPUT chain no longer jumps to ufw's chains (flushed by hand?), and ufw re-adds those jumps only when it starts from nothing: ` +
      `enabling or reloading it now would leave INPUT dropping every new connection. Repair it from a console: ` +
      `ufw --force disable && /lib/ufw/ufw-init flush-all && ufw --force enable && . ${VPNGEN_RULES} (flush-all also removes other tools' chains, e.g. Docker's), or reboot`,
  );
  for (const { rule, ports, via } of truth.foreignAccepts) {
    const what =
      ports === 'all'
        ? 'accepts new connections to every port (the CAS ports included)'
        : `accepts protected port${ports.length > 1 || ports[0]?.[0] !== ports[0]?.[1] ? 's' : ''} ${formatPorts(ports)}`;
    const where = via.length > 1 ? `, reached from INPUT through ${via.slice(1).join(' → ')}` : '';
    const outside =
      backend === 'ufw' ? "outside ufw, whatever ufw's rules say" : `before the jump to ${backend.chain}, whatever the managed chain says`;
    problems.push(
      `the ${rule.family === 'v4' ? 'iptables' : 'ip6tables'} rule '${rule.text}'${where} ${what} ${outside}. ` +
        `casfleet never deletes rules it does not own: remove it (${iptablesCommand(rule.family, rule.table, rule.text)}) and whatever re-adds it`,
    );
  }
  return problems;
};

/** Kernel states worth a warning: forwarded protected ports that never pass INPUT, legacy-backend rules. */
export const kernelWarnings = (truth: KernelTruth, { backend }: Pick<KernelVerdictOptions, 'backend'>): string[] => [
  ...truth.forwardedPorts
    .filter((entry) => entry.forwarding && entry.acceptedBy)
    .map(
      (entry) =>
        `tcp ${formatPorts(entry.ports)} is forwarded to ${entry.to} ('${entry.dnat.text}' in nat ${entry.dnat.chain}) and FORWARD lets it through ` +
        `(${entry.acceptedBy?.startsWith('-A ') ? `'${entry.acceptedBy}'` : entry.acceptedBy}): those connections never pass ${managedName(backend)}'s INPUT rules (a Docker-published port?)`,
    ),
  ...truth.legacyTablesPresent.map((family) => `iptables-legacy also holds ${family} rules on this host; casfleet does not inspect them`),
];
