// casfleet audit [-i INV] [-l PATTERN] [--json | --markdown] [--html FILE]: what every selected CAS
// server exposes right now, its scenario, its drift and findings with severities. Read-only: one
// connection and one exec per host, no backup, no service call but `batm-manage info`.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { renderAuditHtml } from '../report/audit-html.ts';
import { formatAuditMarkdown } from '../report/audit-markdown.ts';
import { formatAuditText } from '../report/audit-text.ts';
import { auditFleet } from '../run/audit-fleet.ts';
import { buildAuditTargets } from './audit-targets.ts';
import { outputStyle } from './create-reporter.ts';
import { EXIT_OK } from './exit-codes.ts';
import { parseCommandLine, refuseSelectionArguments } from './parse-options.ts';
import { prepareFleet, TARGET_HELP, TARGET_OPTIONS } from './prepare-run.ts';

/** A port that does not answer within this long counts as filtered (a firewall DROP). */
export const AUDIT_PROBE_TIMEOUT_MS = 1000;

export const AUDIT_HELP = `Usage: casfleet audit [-i INVENTORY] [-l PATTERN] [--json | --markdown] [--html FILE] [options]

What every selected CAS server exposes right now, which scenario it is in, how it drifted from
that scenario's playbook, and findings with severities. Read-only: one SSH connection and one
command per host (no change, no backup, no service call but 'batm-manage info'), hosts in parallel;
ports are probed from this machine.

Per host: the scenario (A, B, mixed or unknown) with its evidence; the firewall (backend, enabled,
default policy); every CAS port as seen from here (open, closed, filtered), 7741 and 7747 also on
CAS's VPN-side address when the inventory sets casfleet_vpn_probe_from; what the rules allow for
sources not probed; batm-manage info; the drift ('apply <its scenario> --check'); findings.

Options:
${TARGET_HELP}
      --markdown          the report as Markdown (tickets, wikis)
      --html FILE         also write a self-contained HTML report (sortable, filterable host x port matrix)

Exit codes: 0 no critical finding · 4 a critical finding · 2 none critical, but a host could not be
            read · 1 usage/config/inventory error (no host contacted)

Examples:
  casfleet audit -i inventories/prod.yml
  casfleet audit -i inventories/prod.yml --html audit.html
  casfleet audit -i inventories/prod.yml --json | jq '.summary.findings[] | select(.severity == "critical")'
  casfleet audit -i inventories/prod.yml -l canary --markdown > audit.md
`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  markdown: { type: 'boolean' },
  html: { type: 'string' },
} as const;

export const auditCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'audit');
  if (values.help) {
    process.stdout.write(AUDIT_HELP);
    return EXIT_OK;
  }
  refuseSelectionArguments(positionals);
  if (values.json && values.markdown) throw new UsageError('--json and --markdown do not go together: pick one output format');
  const cwd = process.cwd();
  const htmlPath = values.html === undefined ? undefined : resolve(cwd, values.html);
  if (htmlPath !== undefined && !existsSync(dirname(htmlPath)))
    throw new UsageError(`--html ${values.html}: directory ${dirname(htmlPath)} does not exist`);

  const fleet = await prepareFleet(values, cwd);
  if (typeof fleet === 'number') return fleet;
  const targets = await buildAuditTargets(fleet, cwd);
  const report = await auditFleet(targets, {
    forks: fleet.forks,
    connect: fleet.connect,
    gatherTimeoutMs: fleet.commandTimeoutMs,
    probeTimeoutMs: AUDIT_PROBE_TIMEOUT_MS,
  });
  if (htmlPath !== undefined) await writeFile(htmlPath, renderAuditHtml(report), { mode: 0o600 });
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else if (values.markdown) process.stdout.write(formatAuditMarkdown(report));
  else
    process.stdout.write(
      `${formatAuditText(report, outputStyle(), Boolean(values.verbose))}${htmlPath ? `HTML report: ${htmlPath}\n` : ''}`,
    );
  return report.summary.exitCode;
};
