// How the iptables backend survives a reboot. GB: iptables "is volatile - it will be erased after
// rebooting the system - and it will then permit all incoming access … you'll have to implement
// your own deployment scheme" [C] FW. The scheme:
// - the rule files are the standard ones, /etc/iptables/rules.v4 and rules.v6, in iptables-save
//   format, holding casfleet's part of the filter table (the managed chain and its INPUT jump);
// - a casfleet-owned systemd unit, enabled and ordered before network-pre.target (as ufw.service and
//   netfilter-persistent.service are), loads them with iptables-restore --noflush at boot.
// Why not iptables-persistent/netfilter-persistent: on Debian and Ubuntu the ufw package breaks
// them, so installing them removes ufw; a host must be able to switch back to ufw, and casfleet
// changes no packages. Why only casfleet's part: a full dump would also restore rules that other
// programs (ufw, fail2ban, Docker, CAS itself) create at their own start, and any rule jumping to a
// chain that is not there at boot would make the whole restore fail, leaving the host open.
// Enabling is the symlink `systemctl enable` makes (so the fact can read it); systemd re-reads units
// on `daemon-reload`, run when the host was booted with systemd.
import type { ChainLines, Family } from './iptables-chain.ts';
import { JUMP_RULE, MANAGED_CHAIN } from './iptables-chain.ts';

export const RULES_FILES: Readonly<Record<Family, string>> = { v4: '/etc/iptables/rules.v4', v6: '/etc/iptables/rules.v6' };

export const BOOT_UNIT = 'casfleet-iptables.service';
export const BOOT_UNIT_FILE = `/etc/systemd/system/${BOOT_UNIT}`;
/** The link `systemctl enable` creates for `WantedBy=multi-user.target`. */
export const BOOT_UNIT_LINK = `/etc/systemd/system/multi-user.target.wants/${BOOT_UNIT}`;

const RESTORE_TOOL: Readonly<Record<Family, string>> = { v4: 'iptables-restore', v6: 'ip6tables-restore' };

/** How a rule file casfleet wrote begins (one written by anyone else is warned about before it is replaced). */
export const RULES_FILE_MARK = '# casfleet: ';

/** The boot file of one family: casfleet's part of the filter table, as iptables-save prints it. */
export const renderRulesFile = (family: Family, chain: readonly string[]): string =>
  [
    `${RULES_FILE_MARK}the ${family === 'v4' ? 'IPv4' : 'IPv6'} rules ${BOOT_UNIT} loads at boot (${RESTORE_TOOL[family]} --noflush).`,
    '# Written by casfleet from its plan; a casfleet run that finds this file different rewrites it.',
    '*filter',
    `:${MANAGED_CHAIN} - [0:0]`,
    JUMP_RULE,
    ...chain,
    'COMMIT',
    '',
  ].join('\n');

/** The host's iptables-restore and ip6tables-restore, by family (/usr/sbin on Debian and Ubuntu). */
export type RestorePaths = Readonly<Partial<Record<Family, string>>>;

/** The unit that loads the rule files of `families` with the host's own restore programs. */
export const renderBootUnit = (families: readonly Family[], restore: RestorePaths): string =>
  [
    '# casfleet: loads the iptables rules of the iptables backend at boot, before the network comes up.',
    '# Written and enabled by casfleet (firewall: iptables); switching the host to ufw disables it.',
    '[Unit]',
    `Description=casfleet iptables rules (${families.map((family) => RULES_FILES[family]).join(', ')})`,
    'DefaultDependencies=no',
    'Before=network-pre.target',
    'Wants=network-pre.target local-fs.target',
    'After=local-fs.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...families.map((family) => `ExecStart=${restore[family] ?? `/usr/sbin/${RESTORE_TOOL[family]}`} --noflush ${RULES_FILES[family]}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');

/** Every boot file's desired content, by path. */
export const bootFiles = (chains: ChainLines, families: readonly Family[], restore: RestorePaths): ReadonlyMap<string, string> =>
  new Map([
    ...families.map((family): [string, string] => [RULES_FILES[family], renderRulesFile(family, chains[family])]),
    [BOOT_UNIT_FILE, renderBootUnit(families, restore)],
  ]);
