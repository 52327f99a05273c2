// The per-host directory tree that a host's mount namespace shows as /etc/ufw, /etc/iptables, /batm,
// /root, /tmp, /var/log and /var/backups, plus the upper layers of its /etc overlay (which holds
// /etc/default/ufw) and of its /var/lib overlay.
// Written from the parent process, not inside the namespace: 100 hosts are a few thousand file
// writes and no extra processes. Async with many in flight, because file creation on a virtual disk
// costs ~0.5 ms when done one by one and far less when the kernel can overlap them.

import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostRelativePaths, type LabHostLayout } from './lab-layout.ts';
import { OPS_AUTHORIZED_KEYS, OPS_SUDOERS, withOpsGroup, withOpsPasswd } from './lab-ops-account.ts';
import { BATM_SERVICES } from './lab-ports.ts';
import {
  renderEmptyShellRc,
  renderFirewallRules,
  renderGateProperties,
  renderNetworkFile,
  renderSshdConfig,
  renderVpnFile,
} from './lab-templates.ts';

export interface TemplateFile {
  /** Relative to the per-host etc-ufw directory, or `default-ufw` for /etc/default/ufw (goes to the /etc overlay). */
  readonly target: string;
  readonly content: Buffer;
  readonly mode: number;
}

/**
 * A pristine /etc/ufw as the ufw package's postinst builds it: ufw.conf, *.init and *.rules from
 * /usr/share/ufw (the templates), conffiles from the system (sysctl.conf, applications.d,
 * /etc/default/ufw). Never the host's live /etc/ufw/*.rules, which may carry real rules. Modes match
 * the installed ones (rules and init scripts 0640).
 */
export const loadUfwTemplate = (): TemplateFile[] => {
  const share = '/usr/share/ufw';
  const file = (source: string, target: string, mode: number): TemplateFile => ({ target, content: readFileSync(source), mode });
  const rules = ['before.rules', 'after.rules', 'user.rules', 'before6.rules', 'after6.rules', 'user6.rules'];
  const apps = readdirSync('/etc/ufw/applications.d').map((name) =>
    file(join('/etc/ufw/applications.d', name), `applications.d/${name}`, 0o644),
  );
  return [
    file(`${share}/ufw.conf`, 'ufw.conf', 0o644),
    file(`${share}/before.init`, 'before.init', 0o640),
    file(`${share}/after.init`, 'after.init', 0o640),
    ...rules.map((name) => file(`${share}/iptables/${name}`, name, 0o640)),
    file('/etc/ufw/sysctl.conf', 'sysctl.conf', 0o644),
    ...apps,
    file('/etc/default/ufw', 'default-ufw', 0o644),
  ];
};

/** The lab's batm-manage, shipped beside this file as a real bash script. */
export const loadBatmManage = (): Buffer => readFileSync(fileURLToPath(new URL('./batm-manage.sh', import.meta.url)));

export interface HostTreeInput {
  readonly dir: string;
  /** The lab directory as seen inside the host's mount namespace. */
  readonly mountRoot: string;
  readonly host: LabHostLayout;
  readonly ufwTemplate: readonly TemplateFile[];
  readonly batmManage: Buffer;
}

const UFW_WANTS_DIR = 'systemd/system/multi-user.target.wants';
const UFW_UNIT_FILE = '/lib/systemd/system/ufw.service';

/** The files are new (lab up starts from an empty directory), so `mode` applies, minus the umask. */
const write = (path: string, content: string | Buffer, mode = 0o644): Promise<void> => writeFile(path, content, { mode, flag: 'wx' });

export const writeHostTree = async ({ dir, mountRoot, host, ufwTemplate, batmManage }: HostTreeInput): Promise<void> => {
  const rel = hostRelativePaths(host.id);
  const at = (relative: string): string => join(dir, relative);
  await Promise.all([
    ...[
      `${rel.etcUfw}/applications.d`,
      `${rel.etcUpper}/default`,
      `${rel.etcUpper}/sudoers.d`,
      `${rel.etcUpper}/casfleet-lab`,
      rel.etcWork,
      rel.etcIptables,
      rel.varLibUpper,
      rel.varLibWork,
      rel.varLog,
      rel.varBackups,
    ].map((sub) => mkdir(at(sub), { recursive: true })),
    ...['config', 'vpngen', 'logs', 'run-state'].map((sub) => mkdir(at(`${rel.batm}/${sub}`), { recursive: true })),
    mkdir(at(rel.root), { recursive: true, mode: 0o700 }),
    // The ufw package enables its boot unit (Ubuntu's default); `lab reboot` reads which units are enabled.
    mkdir(at(`${rel.etcUpper}/${UFW_WANTS_DIR}`), { recursive: true }).then(() =>
      symlink(UFW_UNIT_FILE, at(`${rel.etcUpper}/${UFW_WANTS_DIR}/ufw.service`)),
    ),
    mkdir(at(rel.tmp), { recursive: true }).then(() => chmod(at(rel.tmp), 0o1777)),
  ]);

  await Promise.all([
    ...ufwTemplate.map((file) =>
      write(file.target === 'default-ufw' ? at(rel.defaultUfw) : at(`${rel.etcUfw}/${file.target}`), file.content, file.mode),
    ),
    write(at(`${rel.batm}/config/gate.properties`), renderGateProperties()),
    write(at(`${rel.batm}/config/network`), renderNetworkFile(host.address)),
    write(at(`${rel.batm}/config/vpn`), renderVpnFile(host.name), 0o640),
    write(at(`${rel.batm}/vpngen/firewall.rules`), renderFirewallRules()),
    write(at(`${rel.batm}/batm-manage`), batmManage, 0o755),
    ...BATM_SERVICES.map((service) => write(at(`${rel.batm}/run-state/${service}`), 'running\n')),
    write(at(`${rel.root}/.bashrc`), renderEmptyShellRc()),
    // The ops account (lab-ops-account.ts) in this host's /etc overlay only.
    write(at(`${rel.etcUpper}/passwd`), withOpsPasswd(readFileSync('/etc/passwd', 'utf8'))),
    write(at(`${rel.etcUpper}/group`), withOpsGroup(readFileSync('/etc/group', 'utf8'))),
    write(at(`${rel.etcUpper}/sudoers.d/casfleet-lab-ops`), OPS_SUDOERS, 0o440),
    write(at(`${rel.root}/.profile`), renderEmptyShellRc()),
    // sshd records logins here; the files are per host so hosts do not write the real /var/log/wtmp.
    ...['wtmp', 'btmp', 'lastlog'].map((name) => write(at(`${rel.varLog}/${name}`), '', name === 'btmp' ? 0o600 : 0o664)),
    write(
      at(rel.sshdConfig),
      renderSshdConfig({
        address: host.address,
        hostKey: `${mountRoot}/${rel.hostKey}`,
        // The lab directory is root's; a non-root account (ops) reads its copy in the /etc overlay.
        authorizedKeys: `${mountRoot}/authorized_keys ${OPS_AUTHORIZED_KEYS}`,
      }),
    ),
  ]);
};

/**
 * /etc/shadow for the hosts: every password field "*" (no password, *not* locked). Debian locks root
 * ("!"), and sshd with UsePAM no refuses locked accounts even for key logins. No hash is copied.
 */
export const renderLabShadow = (systemShadow: string): string =>
  systemShadow
    .split('\n')
    .filter((line) => line.includes(':'))
    .map((line) => {
      const fields = line.split(':');
      fields[1] = '*';
      return fields.join(':');
    })
    .join('\n')
    .concat('\n');
