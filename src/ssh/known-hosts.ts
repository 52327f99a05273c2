// OpenSSH known_hosts: parsing and matching, pure (no fs; known-hosts-file.ts reads the files).
// Semantics follow OpenSSH's hostfile.c / sshconnect.c: entries are selected by host pattern first,
// then `@revoked` wins, then an equal key accepts; a host with entries but no equal key is "changed".

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  /** `revoked` rejects this key; `cert-authority` is kept only to explain why it cannot help. */
  readonly marker?: KnownHostMarker;
  /** The raw host field: `host1,[host2]:2222,!bad*` or a hashed `|1|salt|hmac`. */
  readonly hosts: string;
  /** As written in the file: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`… */
  readonly keyType: string;
  /** SSH wire-format public key blob: exactly what ssh2 hands to `hostVerifier`. */
  readonly key: Buffer;
  /** `file:line`, for messages. */
  readonly source: string;
}

export interface ParsedKnownHosts {
  readonly entries: readonly KnownHostEntry[];
  /** Lines that were skipped and why (malformed, unknown marker), as `file:line: reason`. */
  readonly notes: readonly string[];
}

export type HostKeyVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** No usable entry for this host in any file. */
      readonly reason: 'unknown';
      readonly presentedType: string;
      readonly presentedFingerprint: string;
      /** Set when only `@cert-authority` lines match: certificates are not supported by ssh2. */
      readonly certAuthorityOnly: boolean;
    }
  | {
      readonly ok: false;
      /** The host IS known, with other keys: a man-in-the-middle, or a reinstalled server. */
      readonly reason: 'mismatch';
      readonly presentedType: string;
      readonly presentedFingerprint: string;
      /** Key types known_hosts holds for this host (ssh-rsa, ssh-ed25519…). */
      readonly knownTypes: readonly string[];
      /** Where the known keys are, `file:line`. */
      readonly knownSources: readonly string[];
    }
  | {
      readonly ok: false;
      /** The presented key is marked `@revoked` for this host. */
      readonly reason: 'revoked';
      readonly presentedType: string;
      readonly presentedFingerprint: string;
      readonly revokedSource: string;
    };

/** The name known_hosts stores for a host: bare for port 22, `[host]:port` otherwise. */
export const hostField = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`);

/** OpenSSH-style fingerprint: `SHA256:` + base64 without padding. */
export const fingerprint = (keyBlob: Buffer): string =>
  `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;

/** Reads the SSH wire-format strings of a blob (uint32 length + bytes each). */
const wireStrings = (blob: Buffer): Buffer[] => {
  const parts: Buffer[] = [];
  for (let at = 0; at + 4 <= blob.length; ) {
    const length = blob.readUInt32BE(at);
    parts.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return parts;
};

/** A key's size as `ssh-keygen -l` prints it: RSA modulus bits, the curve's bits, 256 for ed25519. */
export const keyBits = (keyBlob: Buffer): number | undefined => {
  const type = keyTypeOfBlob(keyBlob);
  if (type === 'ssh-ed25519') return 256;
  const curve = /^ecdsa-sha2-nistp(\d+)$/.exec(type ?? '');
  if (curve) return Number(curve[1]);
  if (type === 'ssh-rsa') {
    const modulus = wireStrings(keyBlob)[2];
    if (modulus === undefined) return undefined;
    const bytes = modulus[0] === 0 ? modulus.subarray(1) : modulus;
    return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]!));
  }
  return undefined;
};

/** `ssh-keygen -l`'s name for a key type: ED25519, ECDSA, RSA. */
export const keyTypeLabel = (keyBlob: Buffer): string => {
  const type = keyTypeOfBlob(keyBlob) ?? 'unknown';
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type.startsWith('ecdsa-')) return 'ECDSA';
  if (type === 'ssh-rsa') return 'RSA';
  return type.toUpperCase();
};

/** The key type embedded at the start of a wire-format blob (uint32 length + name). */
export const keyTypeOfBlob = (keyBlob: Buffer): string | undefined => {
  if (keyBlob.length < 4) return undefined;
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return undefined;
  return keyBlob.toString('latin1', 4, 4 + length);
};

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const parseLine = (line: string, source: string): KnownHostEntry | string | undefined => {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const fields = trimmed.split(/\s+/);
  let marker: KnownHostMarker | undefined;
  if (fields[0]?.startsWith('@')) {
    const word = fields.shift();
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return `${source}: unknown marker ${word}; line ignored`;
  }
  const [hosts, keyType, base64] = fields;
  if (hosts === undefined || keyType === undefined || base64 === undefined || !BASE64.test(base64)) {
    return `${source}: not a "hosts keytype base64-key" line; ignored`;
  }
  const key = Buffer.from(base64, 'base64');
  // A line whose blob does not carry its own declared type is corrupt (or a copy-paste accident).
  if (keyTypeOfBlob(key) !== keyType) return `${source}: key data does not match key type ${keyType}; ignored`;
  return marker === undefined ? { hosts, keyType, key, source } : { marker, hosts, keyType, key, source };
};

/** Parses one known_hosts file's text. `file` only labels entries and notes. */
export const parseKnownHosts = (text: string, file: string): ParsedKnownHosts => {
  const entries: KnownHostEntry[] = [];
  const notes: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const parsed = parseLine(line, `${file}:${index + 1}`);
    if (typeof parsed === 'string') notes.push(parsed);
    else if (parsed !== undefined) entries.push(parsed);
  });
  return { entries, notes };
};

// Everything a regex treats specially is escaped, above all `[` and `]`: `[127.0.0.1]:2222` must not
// become a character class. Then only the two glob wildcards get a meaning back.
const globs = new Map<string, RegExp>();

// Compiled once per pattern: a fleet's connections look the same few patterns up over and over.
const globToRegExp = (glob: string): RegExp => {
  let compiled = globs.get(glob);
  if (compiled === undefined) {
    compiled = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`))}$`, 'i');
    globs.set(glob, compiled);
  }
  return compiled;
};

/** OpenSSH's HashKnownHosts form of a host field: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
export const hashHostField = (name: string, salt: Buffer): string =>
  `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

/** A known_hosts line for a key (plain or hashed host field). */
export const knownHostsLine = (host: string, port: number, keyBlob: Buffer, hashSalt?: Buffer): string => {
  const name = hostField(host.toLowerCase(), port);
  return `${hashSalt === undefined ? name : hashHostField(name, hashSalt)} ${keyTypeOfBlob(keyBlob) ?? 'unknown'} ${keyBlob.toString('base64')}`;
};

/** A file is kept hashed when every entry it has is hashed (and it has some). */
export const isHashedFile = (entries: readonly KnownHostEntry[], file: string): boolean => {
  const own = entries.filter((entry) => entry.source.startsWith(`${file}:`));
  return own.length > 0 && own.every((entry) => entry.hosts.startsWith('|1|'));
};

interface HashedField {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const decodeHashed = (field: string): HashedField | undefined => {
  const [, , salt, hash] = field.split('|');
  return salt === undefined || hash === undefined ? undefined : { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
};

const hashedFieldMatches = (field: HashedField | undefined, name: string): boolean => {
  if (field === undefined) return false;
  const mac = createHmac('sha1', field.salt).update(name).digest();
  return field.hash.length === mac.length && timingSafeEqual(mac, field.hash);
};

const hashedMatches = (field: string, name: string): boolean => hashedFieldMatches(decodeHashed(field), name);

/**
 * Does a host field select `name` (already in `hostField` form)? Like OpenSSH's match_hostname:
 * any matching negated pattern excludes the host even when a positive pattern also matches.
 */
export const hostsFieldMatches = (hosts: string, name: string): boolean => {
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (pattern !== '' && globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
};

// Looking a host up by scanning every entry costs O(entries) per connection, O(n²) over a fleet
// whose known_hosts lists every host (2 ms a host at 1000 plain entries, 7 ms hashed, all of it on
// the event loop). Entries whose host field is only literal ASCII names (the usual case) are indexed
// by name; the rest (wildcards, negations, hashed names) are still matched one by one, and a host's
// answer is kept, as it is asked twice per connection (host-key order, then verification).
interface EntryIndex {
  /** Lower-cased literal name -> positions of the entries that list it. */
  readonly literal: ReadonlyMap<string, readonly number[]>;
  /** Positions of the entries that need matching, with their hashed name decoded once. */
  readonly patterned: readonly { readonly position: number; readonly hashed?: HashedField | undefined }[];
  readonly answers: Map<string, readonly KnownHostEntry[]>;
}

const LITERAL = /^[\x21-\x7e]+$/;
const isLiteral = (pattern: string): boolean => LITERAL.test(pattern) && !/[*?]/.test(pattern) && !pattern.startsWith('!');

// Keyed by the entries array: loadKnownHosts hands out the same array while the files are unchanged.
const indexes = new WeakMap<readonly KnownHostEntry[], EntryIndex>();

const indexEntries = (entries: readonly KnownHostEntry[]): EntryIndex => {
  const literal = new Map<string, number[]>();
  const patterned: { position: number; hashed?: HashedField | undefined }[] = [];
  entries.forEach((entry, position) => {
    if (entry.hosts.startsWith('|1|')) {
      patterned.push({ position, hashed: decodeHashed(entry.hosts) });
      return;
    }
    const patterns = entry.hosts.split(',').filter((pattern) => pattern !== '');
    if (!patterns.every(isLiteral)) {
      patterned.push({ position });
      return;
    }
    for (const name of new Set(patterns.map((pattern) => pattern.toLowerCase()))) {
      const positions = literal.get(name);
      if (positions) positions.push(position);
      else literal.set(name, [position]);
    }
  });
  return { literal, patterned, answers: new Map() };
};

/** The entries that select the host, in file order. */
const entriesFor = (entries: readonly KnownHostEntry[], host: string, port: number): readonly KnownHostEntry[] => {
  const name = hostField(host.toLowerCase(), port);
  let index = indexes.get(entries);
  if (index === undefined) {
    index = indexEntries(entries);
    indexes.set(entries, index);
  }
  let answer = index.answers.get(name);
  if (answer === undefined) {
    const matching = index.patterned.filter(({ position, hashed }) =>
      entries[position]!.hosts.startsWith('|1|') ? hashedFieldMatches(hashed, name) : hostsFieldMatches(entries[position]!.hosts, name),
    );
    const positions = [...(index.literal.get(name) ?? []), ...matching.map(({ position }) => position)];
    answer = positions.sort((a, b) => a - b).map((position) => entries[position]!);
    index.answers.set(name, answer);
  }
  return answer;
};

const unique = (values: readonly string[]): string[] => [...new Set(values)];

/** Key types known_hosts vouches for this host, in file order (ordering input for serverHostKey). */
export const knownKeyTypes = (entries: readonly KnownHostEntry[], host: string, port: number): string[] =>
  unique(
    entriesFor(entries, host, port)
      .filter((entry) => entry.marker === undefined)
      .map((entry) => entry.keyType),
  );

/** Strict verification of the key a host presented, against all entries of all files. */
export const verifyHostKey = (entries: readonly KnownHostEntry[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict => {
  const mine = entriesFor(entries, host, port);
  const presentedType = keyTypeOfBlob(keyBlob) ?? 'unknown-key-type';
  const presentedFingerprint = fingerprint(keyBlob);

  const revoked = mine.find((entry) => entry.marker === 'revoked' && entry.key.equals(keyBlob));
  if (revoked) return { ok: false, reason: 'revoked', presentedType, presentedFingerprint, revokedSource: revoked.source };

  const plain = mine.filter((entry) => entry.marker === undefined);
  if (plain.some((entry) => entry.key.equals(keyBlob))) return { ok: true };

  if (plain.length === 0) {
    const certAuthorityOnly = mine.some((entry) => entry.marker === 'cert-authority');
    return { ok: false, reason: 'unknown', presentedType, presentedFingerprint, certAuthorityOnly };
  }
  // Known host, different key. Also when only other key TYPES are known: casfleet offers the known
  // types first (see knownKeyTypes), so a server that answers with another type has dropped its known key.
  return {
    ok: false,
    reason: 'mismatch',
    presentedType,
    presentedFingerprint,
    knownTypes: unique(plain.map((entry) => entry.keyType)),
    knownSources: plain.map((entry) => entry.source),
  };
};
