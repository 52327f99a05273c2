// Algorithm lists handed to ssh2. Both are explicit on purpose (research/deps.md §1.1-1.2).

import type { KexAlgorithm, ServerHostKeyAlgorithm } from 'ssh2';

/**
 * Modern KEX only, curve25519 first (cheapest on our single thread). DH group-exchange is left out:
 * servers that offer only GEX have made ssh2 handshakes take 20-30 s. ssh2 appends `ext-info-c` and the
 * strict-KEX marker (Terrapin) to a custom list by itself.
 */
export const KEX_ALGORITHMS: readonly KexAlgorithm[] = [
  'curve25519-sha256',
  'curve25519-sha256@libssh.org',
  'ecdh-sha2-nistp256',
  'ecdh-sha2-nistp384',
  'ecdh-sha2-nistp521',
  'diffie-hellman-group16-sha512',
  'diffie-hellman-group14-sha256',
];

/** ssh2 1.17's default host-key preference. */
const DEFAULT_SERVER_HOST_KEY: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

// known_hosts records RSA keys as `ssh-rsa`, but the signature algorithms to negotiate are the SHA-2 ones.
const algorithmsForKeyType = (keyType: string): readonly string[] => (keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [keyType]);

const isSupported = (name: string): name is ServerHostKeyAlgorithm => (DEFAULT_SERVER_HOST_KEY as readonly string[]).includes(name);

/**
 * Host-key algorithms with the types known_hosts already holds for this host first, like OpenSSH's
 * HostKeyAlgorithms ordering. Otherwise ssh2 negotiates ed25519 from a host we only know by its ecdsa
 * key and strict checking rejects a perfectly good server.
 */
export const serverHostKeyOrder = (knownTypes: readonly string[]): ServerHostKeyAlgorithm[] => {
  // Types ssh2 cannot negotiate (ssh-dss, sk-*, certificates) are dropped.
  const first = knownTypes.flatMap(algorithmsForKeyType).filter(isSupported);
  return [...new Set([...first, ...DEFAULT_SERVER_HOST_KEY])];
};
