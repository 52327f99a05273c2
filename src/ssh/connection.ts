// The only contract the rest of casfleet has with a remote host. Implementations live in this
// folder (ssh2-connection.ts); nothing outside src/ssh/ imports ssh2 or node-ssh.

/**
 * One exec that reads, lets casfleet decide, then acts on the decision: a session fewer than a read
 * and a second exec, and the same outcome when casfleet or the connection dies in between (the
 * script reads EOF and does nothing more). An answer may keep the exec holding: the script then
 * acts, prints the marker again (on stdout and on stderr) and waits for the next answer.
 */
export interface ExecHold {
  /**
   * The line the script prints, on a line of its own, on stdout and then on stderr, when it waits
   * for the answer on stdin.
   */
  readonly marker: string;
  /**
   * Called each time the script holds, with what it printed before (the first time: since the
   * script started; later: since the last answer). While casfleet decides, the command's timeout
   * does not run (waiting is casfleet's, not the host's), up to `timeoutMs` again, after which EOF
   * is sent.
   */
  readonly reached: (at: HeldAt) => void;
  /** The command's timeout once an answer is sent (default: `timeoutMs`). */
  readonly followUpTimeoutMs?: number;
  /**
   * Checked on stderr until the marker first comes: true ends stdin there (what reads it next would
   * wait for a line that only the answer could bring, such as sudo asking again for a password).
   */
  readonly endStdinIf?: (stderr: string) => boolean;
}

/** A script waiting at its hold. */
export interface HeldAt {
  /** What it printed on stdout since it started or since the last answer, up to the marker line. */
  readonly stdout: string;
  readonly stderr: string;
  /**
   * Write `text` to its stdin, then EOF; with `again`, no EOF: the script holds once more. False,
   * and nothing written, when it is too late: EOF went already (the wait was over) or the command
   * ended.
   */
  answer(text?: string, again?: boolean): boolean;
}

export interface ExecOptions {
  /** Written to the command's stdin, then EOF (after the hold's answer, when there is a hold). Without it stdin gets EOF immediately. */
  readonly stdin?: string | Buffer;
  /** The command fails with RemoteCommandError after this long (default 60 s); with a hold, before the marker, then again after the answer. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly hold?: ExecHold;
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
