// `casfleet audit` for people: a fleet summary that fits one screen (hosts per scenario, every
// critical and warning finding with its hosts, the worst first), then the host × port matrix with
// identical hosts on one row. `-v` adds the info findings and each host's drift.
import { exposureColumns, groupHosts } from '../audit/audit-groups.ts';
import type { AuditReport, PortState, Severity } from '../audit/audit-schema.ts';
import type { Style } from './format-event.ts';
import { compactHostNames } from './host-ranges.ts';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

export const CELL: Readonly<Record<PortState, string>> = { open: 'open', closed: 'closed', filtered: '-' };

export const formatDuration = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** `A 3 (cas-001…cas-003) · B 1 (cas-004) · mixed 0 · unknown 0` */
export const scenarioLine = (report: AuditReport): string =>
  (['A', 'B', 'mixed', 'unknown'] as const)
    .map((scenario) => {
      const hosts = report.summary.scenarios[scenario];
      return `${scenario} ${hosts.length}${hosts.length > 0 ? ` (${compactHostNames(hosts, 4)})` : ''}`;
    })
    .join(' · ');

export const exitLine = (report: AuditReport): string => {
  const { summary } = report;
  if (summary.exitCode === 4) return `exit 4: ${plural(summary.worst.critical, 'host')} with a critical finding`;
  if (summary.exitCode === 2) return `exit 2: ${plural(summary.unreachable.length + summary.failed.length, 'host')} could not be read`;
  return 'exit 0: no critical finding';
};

const paint = (severity: Severity, style: Style) => ({ critical: style.red, warning: style.yellow, info: style.dim })[severity];

export const formatAuditText = (report: AuditReport, style: Style, verbose = false): string => {
  const { summary } = report;
  const lines = [
    `AUDIT of ${plural(summary.hosts, 'host')} · ${report.auditedAt.replace(/\.\d+Z$/, 'Z')} · ${formatDuration(report.durationMs)}`,
    `scenario  ${scenarioLine(report)}`,
    `worst     critical ${summary.worst.critical} · warning ${summary.worst.warning} · info ${summary.worst.info} · unreachable ${summary.unreachable.length}${summary.failed.length > 0 ? ` · failed ${summary.failed.length}` : ''}`,
  ];
  const codeWidth = Math.max(0, ...summary.findings.map((finding) => finding.code.length));
  for (const severity of ['critical', 'warning', 'info'] as const) {
    const findings = summary.findings.filter((finding) => finding.severity === severity);
    if (findings.length === 0) continue;
    if (severity === 'info' && !verbose) {
      lines.push('', style.dim(`info: ${plural(findings.length, 'finding')} (-v lists them)`));
      continue;
    }
    lines.push('', paint(severity, style)(severity));
    for (const finding of findings) {
      lines.push(
        `  ${paint(severity, style)(finding.code.padEnd(codeWidth))}  ${plural(finding.hosts.length, 'host')} (${compactHostNames(finding.hosts, 4)}): ${finding.message}`,
      );
    }
  }
  const columns = exposureColumns(report);
  const groups = groupHosts(report);
  const names = groups.map((group) => compactHostNames(group.hosts, 3));
  const nameWidth = Math.max(5, ...names.map((name) => name.length));
  const width = (column: string) => Math.max(column.length, 6);
  lines.push('', `ports seen from here (open · closed: refused, not filtered · - filtered · blank: not probed)`);
  lines.push(
    `${'hosts'.padEnd(nameWidth)}  ${'scen'.padEnd(7)}  ${columns.map((column) => column.padEnd(width(column))).join(' ')}`.trimEnd(),
  );
  groups.forEach((group, index) => {
    const cells = columns.map((column) => {
      const state = group.audit.exposure[column];
      const text = (state ? CELL[state] : '').padEnd(width(column));
      return state === 'open' ? style.yellow(text) : text;
    });
    lines.push(`${names[index]!.padEnd(nameWidth)}  ${group.audit.scenario.padEnd(7)}  ${cells.join(' ')}`.trimEnd());
  });
  if (verbose) {
    for (const group of groups.filter((entry) => entry.audit.drift.changes.length > 0)) {
      lines.push('', `drift of ${compactHostNames(group.hosts)} against ${group.audit.drift.against}:`);
      for (const change of group.audit.drift.changes) for (const summary of change.summaries) lines.push(`    ${change.step}: ${summary}`);
    }
  }
  lines.push('', exitLine(report));
  return `${lines.join('\n')}\n`;
};
