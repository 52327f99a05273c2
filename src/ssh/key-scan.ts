// `ssh-keyscan` with ssh2: every host key type a server offers, each from a key exchange that
// stops right after the server has shown its key (nothing is authenticated, nothing runs). Hosts
// behind jump hosts are scanned through them; the jump hosts' own keys are verified as always.

import ssh2, { type Client, type ServerHostKeyAlgorithm } from 'ssh2';
import { KEX_ALGORITHMS } from './algorithms.ts';
import type { ConnectOptions } from './connection.ts';
import { openTunnel, type Tunnel } from './jump-pool.ts';

/** One connection per type: a server shows exactly one host key per key exchange. */
export const SCANNED_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
];

export interface ScanResult {
  /** Wire-format public key blobs, one per type the server has. */
  readonly keys: readonly Buffer[];
  /** Why the host could not be scanned at all (no key came back). */
  readonly error?: string;
}

const SCAN_TIMEOUT_MS = 10_000;

/** The key the server presents when only `algorithm` is acceptable, or why there is none. */
const scanOne = async (options: ConnectOptions, algorithm: ServerHostKeyAlgorithm): Promise<Buffer | string> => {
  let tunnel: Tunnel | undefined;
  if (options.jump !== undefined && options.jump.length > 0) {
    try {
      tunnel = await openTunnel(options.jump, options.host, options.port, options.signal);
    } catch (error) {
      return (error as Error).message;
    }
  }
  const client: Client = new ssh2.Client();
  return new Promise<Buffer | string>((resolve) => {
    let key: Buffer | undefined;
    const finish = (outcome: Buffer | string): void => {
      client.removeAllListeners();
      client.on('error', () => {});
      client.destroy();
      tunnel?.release();
      resolve(outcome);
    };
    client.on('error', (error: Error) => finish(key ?? error.message));
    client.on('close', () => finish(key ?? 'the server closed the connection'));
    client.on('ready', () => finish(key ?? 'no host key was shown'));
    client.connect({
      host: options.host,
      port: options.port,
      username: options.username,
      ...(tunnel ? { sock: tunnel.stream } : {}),
      readyTimeout: options.readyTimeoutMs ?? SCAN_TIMEOUT_MS,
      algorithms: { kex: [...KEX_ALGORITHMS], serverHostKey: [algorithm] },
      // Refusing the key ends the exchange before any authentication.
      hostVerifier: (presented: Buffer): boolean => {
        key = Buffer.from(presented);
        return false;
      },
    });
  });
};

export const scanHostKeys = async (options: ConnectOptions): Promise<ScanResult> => {
  const keys: Buffer[] = [];
  const problems: string[] = [];
  for (const algorithm of SCANNED_KEY_ALGORITHMS) {
    const outcome = await scanOne(options, algorithm);
    if (typeof outcome === 'string') problems.push(outcome);
    else if (!keys.some((known) => known.equals(outcome))) keys.push(outcome);
  }
  // A server lacks most types; only "no key at all" is a failure, with the most telling reason.
  if (keys.length > 0) return { keys };
  const reason = problems.find((problem) => !/no matching|host key/i.test(problem)) ?? problems[0] ?? 'no host key';
  return { keys, error: reason };
};
