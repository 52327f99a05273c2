// casfleet keys scan [-i INV] [-l PATTERN] [--write] [--json]: each selected host's SSH host keys
// with their SHA256 fingerprints, as `ssh-keygen -l` prints them, to compare out of band with the
// servers' own (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on each). With --write, keys of
// hosts known_hosts does not know yet are added to it; a key that differs from a recorded one is
// never written (it is reported as CHANGED).

import pLimit from 'p-limit';
import { loadConfig } from '../config/load-config.ts';
import { UsageError } from '../errors.ts';
import type { ConnectOptions } from '../ssh/connection.ts';
import { scanHostKeys } from '../ssh/key-scan.ts';
import { fingerprint, hostField, keyBits, keyTypeLabel, verifyHostKey } from '../ssh/known-hosts.ts';
import { addKnownHost, loadKnownHosts } from '../ssh/known-hosts-file.ts';
import {
  CONNECT_HELP,
  CONNECT_OPTIONS,
  connectContext,
  connectOptionsFor,
  ignoredOptionWarnings,
  printWarnings,
} from './connect-targets.ts';
import { isInsideNetns, reexecInNetns, requiredNetns } from './controller-netns.ts';
import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { loadSelection } from './inventory-input.ts';
import { inventoryKnownHostsOf } from './known-hosts-choice.ts';
import { parseCommandLine } from './parse-options.ts';

export const KEYS_HELP = `Usage: casfleet keys scan [-i INVENTORY] [-l PATTERN] [--write] [--json]

Connect to each selected host (through its jump hosts, which are
scanned first) and print its SSH host keys with
their SHA256 fingerprints, one line per key as 'ssh-keygen -l' prints them. Compare them out of band
with the server's own: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (on the server). Nothing
is logged into. With --write, the keys of hosts that known_hosts does not know yet are added to it
(hashed when the file is hashed or HashKnownHosts is yes); a key that differs from a recorded one is
reported as CHANGED and never written.

Options:
  -i, --inventory FILE    Ansible inventory (YAML or INI); default: the local lab's
  -l, --limit PATTERN     host pattern (see casfleet apply --help)
      --write             add unknown hosts' keys to their known_hosts file
      --json              {"hosts": {"<name>": {"address", "port", "keys": [{type, bits, fingerprint, status}], "error"?}}}
${CONNECT_HELP}
      --config FILE       casfleet config file
  -h, --help              show this help

Exit codes: 0 every host scanned · 1 usage error · 2 a host could not be scanned or has a CHANGED key

Examples:
  casfleet keys scan -i inventories/prod.yml -l cas-new
  casfleet keys scan -i inventories/prod.yml -l cas-new --write
`;

const OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  write: { type: 'boolean' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...CONNECT_OPTIONS,
} as const;

type KeyStatus = 'known' | 'new' | 'added' | 'CHANGED' | 'revoked';

interface ScannedKey {
  readonly type: string;
  readonly bits: number | undefined;
  readonly fingerprint: string;
  readonly status: KeyStatus;
}

/** Concurrent scans: each is up to five short key exchanges. */
const SCAN_CONCURRENCY = 16;

export const keysCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'keys');
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    process.stdout.write(KEYS_HELP);
    return values.help ? EXIT_OK : 1;
  }
  if (action !== 'scan') throw new UsageError(`unknown keys action '${action}'; use 'casfleet keys scan' (see --help)`);
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest.join(' ')} (did you mean -l ${rest[0]}?)`);
  const cwd = process.cwd();
  const { config } = await loadConfig(cwd, values.config);
  const { inventory, hosts } = await loadSelection(values.inventory, values.limit, cwd);
  const netns = requiredNetns(inventory, hosts);
  if (netns && !isInsideNetns(netns)) return reexecInNetns(netns);

  const selected = hosts.map((name) => inventory.hosts.get(name)!);
  const context = connectContext(values, config, cwd, inventoryKnownHostsOf(selected, inventory.source, values['known-hosts']));
  const targets = selected.map((host) => connectOptionsFor(host, context));
  printWarnings(ignoredOptionWarnings(context));
  const limit = pLimit(SCAN_CONCURRENCY);
  const scan = async (target: ConnectOptions) => {
    const scanned = await scanHostKeys(target);
    const known = await loadKnownHosts(target.knownHostsPaths);
    const keys: ScannedKey[] = [];
    for (const key of scanned.keys) {
      const verdict = verifyHostKey(known.entries, target.host, target.port, key);
      let status: KeyStatus = verdict.ok
        ? 'known'
        : verdict.reason === 'unknown'
          ? 'new'
          : verdict.reason === 'revoked'
            ? 'revoked'
            : 'CHANGED';
      // A host with a recorded key of another type is known: a further type is simply new.
      if (!verdict.ok && verdict.reason === 'mismatch' && !verdict.knownTypes.includes(verdict.presentedType)) status = 'new';
      if (status === 'new' && values.write && target.knownHostsPaths[0] !== undefined) {
        await addKnownHost(target.knownHostsPaths[0], target.host, target.port, key, target.hashKnownHosts === true);
        status = 'added';
      }
      keys.push({ type: keyTypeLabel(key), bits: keyBits(key), fingerprint: fingerprint(key), status });
    }
    return { target, keys, ...(scanned.error !== undefined ? { error: scanned.error } : {}) };
  };
  // Jump hosts first, outermost first: with --write their keys are known before anything is
  // scanned through them, so a first contact through a bastion takes one command.
  const hops = new Map<string, ConnectOptions>();
  for (const target of targets) {
    (target.jump ?? []).forEach((hop, index) => {
      const route = target.jump!.slice(0, index);
      const key = [...route, hop].map((h) => `${h.username}@${hostField(h.host, h.port)}`).join(' -> ');
      if (!hops.has(key)) hops.set(key, { ...hop, name: `jump host ${hop.name}`, ...(route.length > 0 ? { jump: route } : {}) });
    });
  }
  const results: Awaited<ReturnType<typeof scan>>[] = [];
  for (const hop of [...hops.values()].sort((a, b) => (a.jump?.length ?? 0) - (b.jump?.length ?? 0))) results.push(await scan(hop));
  results.push(...(await Promise.all(targets.map((target) => limit(() => scan(target))))));

  if (values.json) {
    const view = Object.fromEntries(
      results.map(({ target, keys, error }) => [
        target.name,
        { address: target.host, port: target.port, keys, ...(error !== undefined ? { error } : {}) },
      ]),
    );
    process.stdout.write(`${JSON.stringify({ hosts: view }, null, 2)}\n`);
  } else {
    const lines: string[] = [];
    for (const { target, keys, error } of results) {
      const name = hostField(target.host, target.port);
      const via = target.jump?.length ? ` via ${target.jump.map((hop) => hop.name).join(', ')}` : '';
      const summary = error !== undefined ? `cannot scan: ${error}` : keys.map((key) => `${key.type} ${key.status}`).join(', ');
      lines.push(`# ${target.name} (${name})${via}: ${summary}`);
      for (const key of keys) lines.push(`${key.bits ?? '?'} ${key.fingerprint} ${name} (${key.type})`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  const failed = results.some(
    ({ keys, error }) => error !== undefined || keys.some((key) => key.status === 'CHANGED' || key.status === 'revoked'),
  );
  return failed ? EXIT_HOST_FAILED : EXIT_OK;
};
