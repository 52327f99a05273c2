// Which CAS ports the lab listener opens on each host, and which batm service owns each one.
// Sources: research/cas-domain.md §1.2-1.3 (DESIGN §2 table). Pure data.

import { ADMIN_BIND_IP, MASTER_BIND_IP } from './lab-layout.ts';

/** A service `batm-manage stop <service>` can stop: its ports then refuse connections ("closed"). */
export type BatmService = 'gate' | 'master' | 'admin';
export const BATM_SERVICES: readonly BatmService[] = ['master', 'admin', 'gate'];

export interface LabListenerPort {
  /** `public` = the host's LAN address (its "public IP"); otherwise a fixed VPN-side address. */
  readonly bind: 'public' | typeof MASTER_BIND_IP | typeof ADMIN_BIND_IP;
  readonly port: number;
  /** null: the built-in OpenVPN instances, which batm-manage start/stop does not touch in the lab. */
  readonly service: BatmService | null;
  readonly what: string;
}

export const LAB_LISTENER_PORTS: readonly LabListenerPort[] = [
  { bind: 'public', port: 7741, service: 'gate', what: 'gate: terminal pairing' },
  { bind: MASTER_BIND_IP, port: 7741, service: 'master', what: 'master: paired terminals (VPN side)' },
  { bind: MASTER_BIND_IP, port: 7747, service: 'master', what: 'master: gate → master, internal' },
  { bind: 'public', port: 7742, service: null, what: 'terminal VPN entry (redirected to 13000 by firewall.rules)' },
  { bind: 'public', port: 7743, service: 'master', what: 'master REST API / extensions' },
  { bind: 'public', port: 7777, service: 'admin', what: 'admin GUI (public: the insecure default)' },
  { bind: ADMIN_BIND_IP, port: 7777, service: 'admin', what: 'admin GUI on the admin bind IP' },
  // The lab samples both ends of each range rather than all 51 + 11 ports: that is enough to see
  // whether a range rule matches, and keeps the listener within its file-descriptor budget.
  { bind: 'public', port: 12000, service: null, what: 'administration VPN (first credential)' },
  { bind: 'public', port: 12050, service: null, what: 'administration VPN (last credential)' },
  { bind: 'public', port: 13000, service: null, what: 'terminal VPN instance 1' },
  { bind: 'public', port: 13010, service: null, what: 'terminal VPN instance 11' },
];

/** Ports nothing in the lab listens on, handy as a known "closed" control in tests. */
export const LAB_UNUSED_PORT = 7748;

/** A second port every lab sshd listens on, to rehearse SSH on another port (ansible_port: 2222). */
export const LAB_ALT_SSH_PORT = 2222;
