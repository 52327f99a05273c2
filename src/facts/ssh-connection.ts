// The SSH connection casfleet itself uses, as the host sees it: sshd's SSH_CONNECTION
// ("client-address client-port server-address server-port") and the interface the host routes
// that client through (`ip route get`, the kernel's own lookup, policy routing included), which
// for a normal symmetric route is the interface the connection arrives on. The firewall planner
// checks that the plan keeps exactly this connection possible (steps/ssh-guard.ts).
//
// sudo resets the environment, so this fact must run as the login user, before privilege
// escalation: it is a login-scope fact (see Fact.scope). It describes the connection, which does
// not change while it is open.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';
import type { UfwFamily } from './ufw-tuple.ts';

export interface SshConnection {
  /** The address family the packets really use: an IPv4-mapped client (`::ffff:a.b.c.d`) is IPv4. */
  readonly family: UfwFamily;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly serverAddress: string;
  /** The port sshd accepted this connection on (after any NAT in front of the host). */
  readonly serverPort: number;
  /** Interface of the host's route back to the client; undefined when the lookup failed. */
  readonly interface?: string;
}

const FACT_ID = 'ssh.connection';

// A link-local client carries its zone (`fe80::1%eth0`): that zone is the interface (the route
// lookup strips it, as `ip route get` wants the bare address). Inline (no subshell): the fields
// are cut with parameter expansions, not word splitting, so no shell option is touched.
// `ip route get` prints "<address> [via <gw>] dev <iface> src …" (then an indented "cache" line);
// its output follows a `route-lookup` line as it is, and is read here: a command substitution
// would cost the host a fork (dash starts a plain command with vfork) in every gathering.
const SCRIPT = `PATH="$PATH:/usr/sbin:/sbin"
echo "ssh-connection \${SSH_CONNECTION:-}"
client=\${SSH_CONNECTION%% *}
if [ -n "$client" ]; then
  client=\${client%%%*}
  case $client in ::ffff:*.*) client=\${client#::ffff:} ;; esac
  echo route-lookup
  ip route get "$client" 2>/dev/null
fi
echo end`;

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
const PORT = /^\d{1,5}$/;

/** Parses the output of the SSH connection fact script; null when SSH_CONNECTION is not set. */
export const parseSshConnection = (output: string): SshConnection | null => {
  let fields: string[] | undefined;
  /** What `ip route get` printed, once the lookup line came (nothing when the lookup failed). */
  let route: string[] | undefined;
  for (const line of factLines(FACT_ID, output)) {
    if (route !== undefined) {
      route.push(line);
      continue;
    }
    const [word, rest] = splitWord(line);
    if (word === 'ssh-connection') fields = rest.trim() === '' ? [] : rest.trim().split(/\s+/);
    else if (line === 'route-lookup') route = [];
    else throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
  }
  const routeDevice = / dev (\S+)/.exec(route?.join('\n') ?? '')?.[1] ?? '';
  if (fields === undefined) throw new FactError(`${FACT_ID}: no ssh-connection line`);
  if (fields.length === 0) return null;
  const [client = '', clientPort = '', server = '', serverPort = ''] = fields;
  if (fields.length !== 4 || !PORT.test(clientPort) || !PORT.test(serverPort)) {
    throw new FactError(`${FACT_ID}: SSH_CONNECTION is not "client port server port": "${fields.join(' ')}"`);
  }
  const [clientAddress = '', zone] = client.split('%');
  const unmap = (address: string): string => MAPPED.exec(address)?.[1] ?? address;
  const family: UfwFamily = unmap(clientAddress).includes(':') ? 'v6' : 'v4';
  // A numeric zone is an interface index, not a name: the route lookup names it instead.
  const iface = zone !== undefined && !/^\d+$/.test(zone) ? zone : routeDevice;
  return {
    family,
    clientAddress: unmap(clientAddress),
    clientPort: Number(clientPort),
    serverAddress: unmap(server.split('%')[0] ?? ''),
    serverPort: Number(serverPort),
    ...(iface ? { interface: iface } : {}),
  };
};

/** Where this SSH session comes from and arrives, as the host sees it (login scope: runs before sudo). */
export const sshConnection: Fact<SshConnection | null> = {
  id: FACT_ID,
  scope: 'login',
  script: SCRIPT,
  inline: true,
  parse: parseSshConnection,
};
