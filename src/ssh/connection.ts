// The only contract the rest of casfleet has with a remote host. Implementations live in this
// folder (ssh2-connection.ts); nothing outside src/ssh/ imports ssh2 or node-ssh.

export interface ExecOptions {
  /** Written to the command's stdin, then EOF. Without it stdin gets EOF immediately. */
  readonly stdin?: string | Buffer;
  /** The command fails with RemoteCommandError after this long (default 60 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the channel closed without an exit status (connection lost, signal). */
  readonly code: number | null;
  readonly signal?: string;
}

export interface Connection {
  readonly host: string;
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** One identity file to offer. */
export interface IdentityFile {
  readonly path: string;
  /** Given explicitly (inventory, --private-key): a missing or unusable file fails the connection. */
  readonly required: boolean;
  /** Where it was configured, for messages (`~/.ssh/config:12`, `ansible_ssh_private_key_file`). */
  readonly source?: string;
}

/** How to reach one SSH server: the target itself, or a jump host on the way to it. */
export interface SshEndpoint {
  /** Inventory name or the jump host as written, used in messages. */
  readonly name: string;
  /** Address to dial (ansible_host, ssh_config HostName, else the name). */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Path to a private key file; when absent, ssh-agent ($SSH_AUTH_SOCK) then default keys are tried. */
  readonly privateKeyPath?: string;
  /** Further identity files (ssh_config IdentityFile), offered after privateKeyPath, in order. */
  readonly identityFiles?: readonly IdentityFile[];
  /** IdentitiesOnly: never fall back to ssh-agent or the default keys. */
  readonly identitiesOnly?: boolean;
  /** ssh-agent socket; null for none (IdentityAgent none); undefined for $SSH_AUTH_SOCK. */
  readonly agent?: string | null;
  /** known_hosts files, checked in order; strict: an unknown or changed key fails the connection. */
  readonly knownHostsPaths: readonly string[];
  /** `accept-new` records the key of a host known_hosts has no entry for (OpenSSH's semantics). */
  readonly hostKeyPolicy?: 'strict' | 'accept-new';
  /** Write accepted keys hashed (HashKnownHosts yes); a file already hashed is kept hashed anyway. */
  readonly hashKnownHosts?: boolean;
  readonly readyTimeoutMs?: number;
  /** ServerAliveInterval, in ms; default 10 s. */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
}

export interface ConnectOptions extends SshEndpoint {
  /**
   * Jump hosts, outermost first (ProxyJump). Each hop's connection is shared by every target behind
   * it; the target's own handshake, key check and login run end to end through the tunnel.
   */
  readonly jump?: readonly SshEndpoint[];
  readonly signal?: AbortSignal;
}
