// `casfleet audit --markdown`: the same report for tickets and wikis: the summary, every finding,
// the port matrix (identical hosts on one row) and per host group its firewall, services and drift.
import { exposureColumns, groupHosts } from '../audit/audit-groups.ts';
import type { AuditReport } from '../audit/audit-schema.ts';
import { CELL, exitLine, formatDuration, scenarioLine } from './audit-text.ts';
import { compactHostNames } from './host-ranges.ts';

/** Table cell text: pipes and line breaks would end the cell. */
const cell = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;

export const formatAuditMarkdown = (report: AuditReport): string => {
  const { summary } = report;
  const columns = exposureColumns(report);
  const groups = groupHosts(report);
  const lines = [
    `# casfleet audit: ${summary.hosts} host${summary.hosts === 1 ? '' : 's'}`,
    '',
    `Audited at ${report.auditedAt} in ${formatDuration(report.durationMs)}; ${exitLine(report)}.`,
    '',
    `**Scenarios:** ${scenarioLine(report)}`,
    '',
    '## Findings',
    '',
    row(['severity', 'code', 'hosts', 'finding']),
    row(['---', '---', '---', '---']),
    ...summary.findings.map((finding) => row([finding.severity, finding.code, compactHostNames(finding.hosts, 6), finding.message])),
    '',
    '## Ports seen from the machine running casfleet',
    '',
    '`open` answers · `closed` refused (the firewall let it through) · `-` filtered · empty: not probed',
    '',
    row(['hosts', 'scenario', ...columns]),
    row(['---', '---', ...columns.map(() => '---')]),
    ...groups.map((group) =>
      row([
        compactHostNames(group.hosts, 6),
        group.audit.scenario,
        ...columns.map((column) => {
          const state = group.audit.exposure[column];
          return state ? CELL[state] : '';
        }),
      ]),
    ),
    '',
    '## Hosts',
  ];
  for (const { hosts, audit } of groups) {
    const firewall = audit.firewall
      ? `${audit.firewall.backend}, ${audit.firewall.enabled ? 'enabled' : 'not filtering'}${audit.firewall.defaultIncoming ? `, default incoming ${audit.firewall.defaultIncoming}` : ''}`
      : 'not read';
    lines.push(
      '',
      `### ${compactHostNames(hosts, 6)}: scenario ${audit.scenario}`,
      '',
      `- status: ${audit.status}${audit.error ? ` (${audit.error})` : ''}`,
      `- evidence: ${audit.evidence.map((entry) => entry.text).join('; ') || 'none'}`,
      `- firewall: ${firewall}`,
      `- services: gate ${audit.services.gate}, master ${audit.services.master}, admin ${audit.services.admin}`,
      ...audit.findings.map((finding) => `- **${finding.severity}** \`${finding.code}\`: ${finding.message}`),
    );
    if (audit.drift.against) {
      const changes = audit.drift.changes.flatMap((change) => change.summaries.map((summary) => `  - ${change.step}: \`${summary}\``));
      lines.push(
        `- drift against ${audit.drift.against}:${audit.drift.error ? ` ${audit.drift.error}` : changes.length === 0 ? ' none' : ''}`,
        ...changes,
      );
    }
  }
  return `${lines.join('\n')}\n`;
};
