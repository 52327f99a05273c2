// casfleet support-bundle <host> [-o FILE]: the tar.gz GB support asks for, from one read-only SSH
// command on the host (see src/bundle/support-bundle.ts for what goes in, and what does not).

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BUNDLE_FACTS, supportBundleFiles } from '../bundle/support-bundle.ts';
import { tarGz } from '../bundle/tar-archive.ts';
import { UsageError } from '../errors.ts';
import { packageInfo } from '../package-info.ts';
import { auditHost, auditReport } from '../run/audit-fleet.ts';
import { AUDIT_PROBE_TIMEOUT_MS } from './audit-command.ts';
import { buildAuditTargets } from './audit-targets.ts';
import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { parseCommandLine } from './parse-options.ts';
import { prepareFleet, TARGET_OPTIONS } from './prepare-run.ts';

export const SUPPORT_BUNDLE_HELP = `Usage: casfleet support-bundle <host> [-i INVENTORY] [-o FILE] [options]

Collect what General Bytes support asks for in a ticket into one tar.gz: iptables-save and
ip6tables-save, 'ufw status verbose', 'batm-manage info', /batm/config/network, gate.properties
with secret-looking values replaced by ********, OS and package versions, and casfleet's audit of
the host. Nothing else from the host. Read-only: one SSH connection, one command.

Options:
  -i, --inventory FILE    Ansible inventory (YAML or INI); default: the local lab's
  -o, --output FILE       where to write the archive (default ./casfleet-support-<host>-<time>.tar.gz)
  -e, --extra-vars K=V    a var for the audit part (as in casfleet audit)
  -u, --user USER, --private-key FILE, --known-hosts FILE, --config FILE   as in casfleet apply
  -h, --help              show this help

Exit codes: 0 written · 1 usage error · 2 the host could not be read (nothing written)

Example:
  casfleet support-bundle cas-017 -i inventories/prod.yml -o ticket-4711.tar.gz
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  output: { type: 'string', short: 'o' },
} as const;

export const supportBundleCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'support-bundle');
  if (values.help) {
    process.stdout.write(SUPPORT_BUNDLE_HELP);
    return EXIT_OK;
  }
  const [host, ...rest] = positionals;
  if (!host) throw new UsageError("support-bundle needs a host: 'casfleet support-bundle cas-017 -i inventory.yml' (see --help)");
  if (rest.length > 0 || values.limit) throw new UsageError('support-bundle takes exactly one host (and no --limit)');
  const cwd = process.cwd();
  const fleet = await prepareFleet({ ...values, limit: host }, cwd);
  if (typeof fleet === 'number') return fleet;
  if (fleet.hosts.length !== 1)
    throw new UsageError(`'${host}' selects ${fleet.hosts.length} hosts (${fleet.hosts.slice(0, 5).join(', ')}…): name exactly one`);
  const [target] = await buildAuditTargets(fleet, cwd);
  const started = new Date();
  const { audit, outcomes } = await auditHost(
    target!,
    {
      forks: 1,
      connect: fleet.connect,
      gatherTimeoutMs: fleet.commandTimeoutMs,
      probeTimeoutMs: AUDIT_PROBE_TIMEOUT_MS,
    },
    Object.values(BUNDLE_FACTS),
  );
  if (audit.status !== 'audited') {
    process.stderr.write(`casfleet: ${target!.name} could not be read (${audit.error ?? audit.status}); no bundle written\n`);
    return EXIT_HOST_FAILED;
  }
  const report = auditReport(started, { [target!.name]: audit });
  const files = supportBundleFiles({ host: target!.name, report, outcomes, createdAt: started, casfleetVersion: packageInfo().version });
  const output = resolve(cwd, values.output ?? `${files[0]!.name.split('/')[0]}.tar.gz`);
  await writeFile(output, tarGz(files, started.getTime() / 1000), { mode: 0o600 });
  process.stdout.write(`support bundle for ${target!.name}: ${output} (${files.length} files)\n`);
  return EXIT_OK;
};
