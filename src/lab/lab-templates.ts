// Text of the per-host files a lab host starts with. Pure: values in, file contents out.
// Contents imitate a fresh Scenario A CAS server (research/cas-domain.md §1-4); no vpn-skip anywhere.

import { ADMIN_BIND_IP, MASTER_BIND_IP } from './lab-layout.ts';
import { LAB_ALT_SSH_PORT } from './lab-ports.ts';

export interface SshdConfigInput {
  readonly address: string;
  /** Paths as seen inside the host's mount namespace. */
  readonly hostKey: string;
  readonly authorizedKeys: string;
}

export const renderSshdConfig = ({ address, hostKey, authorizedKeys }: SshdConfigInput): string =>
  [
    '# casfleet lab sshd: one per simulated CAS host, inside its network + mount namespace.',
    `ListenAddress ${address}`,
    'Port 22',
    // A second port costs one more listening socket and lets a test move SSH (ansible_port).
    `Port ${LAB_ALT_SSH_PORT}`,
    `HostKey ${hostKey}`,
    // Several hosts share one root fs; a pid file in /run is private, but nothing needs it.
    'PidFile none',
    // UsePAM no keeps logins cheap; then sshd refuses *locked* accounts, which is why the lab
    // bind-mounts a shadow copy whose password fields are "*" (no password, not locked).
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `AuthorizedKeysFile ${authorizedKeys}`,
    // The key files live in the lab directory, owned by whoever ran `lab up`.
    'StrictModes no',
    // A fleet run opens many connections at once; the defaults (10:30:100) would drop some.
    'MaxStartups 200:30:400',
    'MaxSessions 20',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    // Sessions orphaned by a vanished controller end within ~1.5 min instead of hours.
    'ClientAliveInterval 30',
    'ClientAliveCountMax 3',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');

export const renderGateProperties = (): string =>
  ['# CAS gate configuration (casfleet lab sample)', 'batm.processing-slots=20', 'batm.gate.log-level=info', ''].join('\n');

/** /batm/config/network: key=value, one per line, like the example in research/cas-domain.md §1.3. */
export const renderNetworkFile = (publicIp: string): string =>
  [`public_ip=${publicIp}`, `master_bind_ip=${MASTER_BIND_IP}`, `gate_bind_ip=${publicIp}`, `admin_bind_ip=${ADMIN_BIND_IP}`, ''].join(
    '\n',
  );

/** Stand-in for the terminal VPN config that Scenario B removes (after backing it up). */
export const renderVpnFile = (hostName: string): string =>
  [
    '# terminal VPN configuration (casfleet lab placeholder, not a real OpenVPN config)',
    `vpn.server.name=${hostName}`,
    'vpn.port=7742',
    'vpn.instances=13000-13010',
    '',
  ].join('\n');

const VPN_LB_RULE = '-p tcp --dport 7742 -m comment --comment batm-vpn-lb -j REDIRECT --to-ports 13000';

/**
 * /batm/vpngen/firewall.rules is *sourced* by sh after every firewall reload ([C] TVPN). Idempotent
 * (-C before -I) so sourcing it twice leaves one rule; the log line lets tests count re-applications.
 */
export const renderFirewallRules = (): string =>
  [
    '# CAS terminal VPN load balancing (casfleet lab imitation). Sourced, not executed:',
    '#   source /batm/vpngen/firewall.rules',
    `iptables -t nat -C PREROUTING ${VPN_LB_RULE} 2>/dev/null || iptables -t nat -I PREROUTING ${VPN_LB_RULE}`,
    'mkdir -p /batm/logs',
    'echo "$(date -Is) firewall.rules sourced" >> /batm/logs/firewall-rules.log',
    '',
  ].join('\n');

/** An empty .bashrc/.profile: bash reads ~/.bashrc even for `ssh host cmd`, so keep it free. */
export const renderEmptyShellRc = (): string => '# casfleet lab: intentionally empty (keeps ssh commands cheap)\n';

/** Plain known_hosts line; the key comment is dropped. */
export const renderKnownHostsLine = (address: string, publicKeyLine: string): string => {
  const [type, key] = publicKeyLine.trim().split(/\s+/);
  return `${address} ${type} ${key}`;
};

/** `ip -batch` script run inside one host's network namespace. */
export const renderHostNetBatch = (
  address: string,
  prefixLength: number,
  gateway: string,
  vpnRouterSubnet: string,
  vpnDevice: string,
): string =>
  [
    'link set lo up',
    `addr add ${address}/${prefixLength} dev eth0`,
    'link set eth0 up',
    `route add default via ${gateway} dev eth0`,
    // The hardware VPN router sits "on the LAN": replies to 10.8.0.x leave directly via eth0.
    `route add ${vpnRouterSubnet} dev eth0 scope link`,
    `tuntap add dev ${vpnDevice} mode tun`,
    `addr add ${MASTER_BIND_IP}/32 dev ${vpnDevice}`,
    `addr add ${ADMIN_BIND_IP}/32 dev ${vpnDevice}`,
    `link set ${vpnDevice} up`,
    '',
  ].join('\n');
