// A throwaway OpenSSH sshd for integration tests: 127.0.0.1 only, a random high port, its own host keys,
// a temporary authorized_keys, logging in as the current user (root in CI). Stopped by its own PID.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface Sshd {
  readonly dir: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly username: string;
  /** Unencrypted client key that authorized_keys accepts. */
  readonly clientKey: string;
  /** `ssh-ed25519 AAAA…` public host keys by type. */
  readonly hostKeys: Readonly<Record<HostKeyType, string>>;
  /** Writes a known_hosts file with the given lines and returns its path. */
  readonly writeKnownHosts: (fileName: string, lines: readonly string[]) => Promise<string>;
  readonly log: () => Promise<string>;
  readonly stop: () => Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

/** Resolves once the port answers with an SSH banner. */
const waitForBanner = async (port: number, child: ChildProcess, deadline: number): Promise<boolean> => {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const banner = await new Promise<string>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.setTimeout(500);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString('latin1'));
      });
      socket.once('error', () => resolve(''));
      socket.once('timeout', () => {
        socket.destroy();
        resolve('');
      });
    });
    if (banner.startsWith('SSH-2.0-')) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
};

const keygen = async (type: HostKeyType, path: string, comment: string): Promise<string> => {
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', path]);
  return (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
};

export interface SshdOptions {
  /** Extra sshd_config lines. */
  readonly config?: readonly string[];
}

export const startSshd = async (options: SshdOptions = {}): Promise<Sshd> => {
  const dir = await mkdtemp(join(tmpdir(), 'casfleet-sshd-'));
  // sshd's privilege-separation directory; the package creates it only when the service runs.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const hostKeys = {
    ed25519: await keygen('ed25519', join(dir, 'host_ed25519'), 'test-host'),
    ecdsa: await keygen('ecdsa', join(dir, 'host_ecdsa'), 'test-host'),
    rsa: await keygen('rsa', join(dir, 'host_rsa'), 'test-host'),
  };
  const clientKey = join(dir, 'client_ed25519');
  const clientPub = await keygen('ed25519', clientKey, 'casfleet-test-client');
  await writeFile(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });

  const username = userInfo().username;
  let child: ChildProcess | undefined;
  let port = 0;
  // A free port can be taken between our probe and sshd's bind; try a few.
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(
      configPath,
      [
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${join(dir, 'host_ed25519')}`,
        `HostKey ${join(dir, 'host_ecdsa')}`,
        `HostKey ${join(dir, 'host_rsa')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'MaxStartups 100',
        'LogLevel VERBOSE',
        ...(options.config ?? []),
        '',
      ].join('\n'),
    );
    const started = spawn('/usr/sbin/sshd', ['-D', '-f', configPath, '-E', join(dir, 'sshd.log')], { stdio: 'ignore' });
    if (await waitForBanner(port, started, Date.now() + 5_000)) child = started;
    else if (started.exitCode === null) started.kill('SIGTERM');
  }
  if (child === undefined || child.pid === undefined) {
    const log = await readFile(join(dir, 'sshd.log'), 'utf8').catch(() => '');
    throw new Error(`sshd did not start:\n${log}`);
  }
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  // Safety net when the test process ends without after.always (ava kills a worker on timeout):
  // without it our sshd would outlive the tests. Only our own PID.
  const killOnExit = (): void => {
    if (isRunning()) process.kill(pid, 'SIGTERM');
  };
  process.once('exit', killOnExit);

  return {
    dir,
    host: '127.0.0.1',
    port,
    username,
    clientKey,
    hostKeys,
    writeKnownHosts: async (fileName, lines) => {
      const path = join(dir, fileName);
      await writeFile(path, lines.map((line) => `${line}\n`).join(''));
      return path;
    },
    log: () => readFile(join(dir, 'sshd.log'), 'utf8'),
    stop: async () => {
      // Only the listener we started, by its PID; its per-connection children exit with their sessions.
      process.removeListener('exit', killOnExit);
      if (isRunning()) process.kill(pid, 'SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
};
