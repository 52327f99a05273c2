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

export interface ConnectOptions {
  /** Inventory name, used in messages. */
  readonly name: string;
  /** Address to dial (ansible_host, else the name). */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Path to a private key file; when absent, ssh-agent ($SSH_AUTH_SOCK) then default keys are tried. */
  readonly privateKeyPath?: string;
  /** known_hosts files, checked in order; strict: an unknown or changed key fails the connection. */
  readonly knownHostsPaths: readonly string[];
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}
