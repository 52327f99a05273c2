// One ed25519 host key and one client key for the whole fake fleet, generated once and kept next to
// the recording: a fleet of 1000 needs no 1000 keys, strict checking still sees a listed key.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export const FLEET_KEY_DIR = join(tmpdir(), 'casfleet-fake-fleet-keys');

interface KeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly privateKeyPath: string;
}

const keyPair = (name: string): KeyPair => {
  const privateKeyPath = join(FLEET_KEY_DIR, name);
  if (!existsSync(privateKeyPath)) {
    mkdirSync(FLEET_KEY_DIR, { recursive: true, mode: 0o700 });
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
    writeFileSync(`${privateKeyPath}.pub`, `${pair.public}\n`);
  }
  return {
    privateKey: readFileSync(privateKeyPath, 'utf8'),
    publicKey: readFileSync(`${privateKeyPath}.pub`, 'utf8').trim(),
    privateKeyPath,
  };
};

export const fleetHostKey = (): KeyPair => keyPair('host_ed25519');
export const fleetClientKey = (): KeyPair => keyPair('client_ed25519');

/** known_hosts listing every address with the fleet's one host key. */
export const writeFleetKnownHosts = (path: string, addresses: readonly string[]): void => {
  const [type, key] = fleetHostKey().publicKey.split(' ');
  writeFileSync(path, addresses.map((address) => `${address} ${type} ${key}\n`).join(''));
};
