// Private keys are read and parsed once per process. Decrypting an OpenSSH-format key runs bcrypt-pbkdf in
// pure JS (0.3-1 s of blocking CPU); ssh2 would repeat that on every connect() if handed the file and the
// passphrase, so the parsed key goes to ssh2 through authHandler instead (research/deps.md §1.4).

import { createPrivateKey, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';
import { ConnectError } from '../errors.ts';
import { fingerprint } from './known-hosts.ts';

/** Environment variable holding the passphrase for encrypted keys. Read, never logged or echoed. */
export const PASSPHRASE_ENV = 'CASFLEET_KEY_PASSPHRASE';

export interface LoadedKey {
  readonly path: string;
  readonly key: ParsedKey;
  /** `ssh-ed25519 SHA256:…` of the public half: safe to show. */
  readonly label: string;
}

// Failures are cached too: a wrong passphrase must fail every host at once, not cost a second per host.
const cache = new Map<string, Promise<LoadedKey>>();

const parse = (data: Buffer, passphrase: string | undefined): ParsedKey | Error => {
  const parsed = ssh2.utils.parseKey(data, passphrase);
  // OpenSSH's format can hold several keys; it only ever stores one today.
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
};

const load = async (path: string): Promise<LoadedKey> => {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ConnectError(`cannot read private key ${path}: ${code}`, { cause: error });
  }
  let key = parse(data, undefined);
  if (key instanceof Error && /no passphrase given/i.test(key.message)) {
    const passphrase = process.env[PASSPHRASE_ENV];
    if (passphrase === undefined || passphrase === '') {
      throw new ConnectError(`private key ${path} is encrypted: set ${PASSPHRASE_ENV} or load the key into ssh-agent (SSH_AUTH_SOCK)`);
    }
    key = parse(data, passphrase);
    if (key instanceof Error) {
      // ssh2's message mentions only "bad passphrase?"; it never contains the passphrase itself.
      throw new ConnectError(`cannot decrypt private key ${path}: wrong passphrase in ${PASSPHRASE_ENV}?`);
    }
  }
  if (key instanceof Error) throw new ConnectError(`cannot parse private key ${path}: ${key.message}`);
  if (!key.isPrivateKey()) throw new ConnectError(`${path} holds a public key, not a private key`);
  return { path, key: signingWithKeyObject(key), label: `${key.type} ${fingerprint(key.getPublicSSH())}` };
};

/**
 * The key as ssh2 gets it. ssh2 signs with the key's PEM text, which node:crypto parses again for
 * every signature: ~0.4 ms per login with an ed25519 key against ~0.04 ms with a parsed KeyObject,
 * and a 1000-host apply logs in 2000 times. This key signs with one KeyObject made here, through the
 * same node:crypto call ssh2 makes (so the same bytes); everything else is the parsed key's own, and
 * a signature whose hash ssh2 would pick itself (any key type but ed25519, when none is asked for)
 * is left to ssh2.
 */
const signingWithKeyObject = (key: ParsedKey): ParsedKey => {
  const keyObject = createPrivateKey(key.getPrivatePEM());
  return Object.create(key, {
    sign: {
      value: (data: Buffer, algo?: string): Buffer | Error => {
        const hash = algo ?? (key.type === 'ssh-ed25519' ? null : undefined);
        if (hash === undefined) return key.sign(data, algo);
        try {
          return sign(hash, data, keyObject);
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error));
        }
      },
    },
  }) as ParsedKey;
};

/** The parsed key for `path`, parsed at most once per process (concurrent callers share the work). */
export const loadPrivateKey = (path: string): Promise<LoadedKey> => {
  let pending = cache.get(path);
  if (pending === undefined) {
    pending = load(path);
    cache.set(path, pending);
  }
  return pending;
};
