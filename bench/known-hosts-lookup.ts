// node --import=tsx bench/known-hosts-lookup.ts [--hosts N] [--hashed]: controller CPU per host of
// the host-key lookups one connection makes (key order, then verification) when known_hosts lists
// the whole fleet. No lab: the entries are generated.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { knownHostsLine, knownKeyTypes, parseKnownHosts, verifyHostKey } from '../src/ssh/known-hosts.ts';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '1000' }, hashed: { type: 'boolean', default: false } } });
const count = Number(values.hosts);

const ed25519Blob = (): Buffer => {
  const name = Buffer.from('ssh-ed25519');
  const blob = Buffer.alloc(8 + name.length + 32);
  blob.writeUInt32BE(name.length, 0);
  name.copy(blob, 4);
  blob.writeUInt32BE(32, 4 + name.length);
  randomBytes(32).copy(blob, 8 + name.length);
  return blob;
};

const hosts = Array.from({ length: count }, (_, index) => `10.77.${index >> 8}.${index & 255}`);
const keys = hosts.map(ed25519Blob);
const text = hosts.map((host, index) => knownHostsLine(host, 22, keys[index]!, values.hashed ? randomBytes(20) : undefined)).join('\n');
const { entries } = parseKnownHosts(text, 'known_hosts');

const start = process.cpuUsage();
let verified = 0;
hosts.forEach((host, index) => {
  knownKeyTypes(entries, host, 22);
  if (verifyHostKey(entries, host, 22, keys[index]!).ok) verified += 1;
});
const used = process.cpuUsage(start);
process.stdout.write(
  `known_hosts lookups: ${count} hosts, ${values.hashed ? 'hashed' : 'plain'} file: ${verified} verified, ${((used.user + used.system) / 1000 / count).toFixed(3)} ms CPU per host\n`,
);
