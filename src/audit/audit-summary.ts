// The fleet summary: hosts per scenario, every finding with its hosts (the worst first, then the
// most hosts), how many hosts are worst at each severity, and the exit code (0 no critical finding,
// 4 a critical one, 2 none critical but a host unreachable or failed: an exposure is the more urgent
// news, and the summary still lists the hosts it could not read).

import { severityRank } from './audit-findings.ts';
import type { AuditSummary, HostAudit, Scenario, Severity } from './audit-schema.ts';

export const EXIT_CRITICAL = 4;

const worstOf = (host: HostAudit): Severity | undefined =>
  host.findings.reduce<Severity | undefined>(
    (worst, finding) => (worst === undefined || severityRank(finding.severity) < severityRank(worst) ? finding.severity : worst),
    undefined,
  );

export const summarizeAudit = (hosts: Readonly<Record<string, HostAudit>>): AuditSummary => {
  const entries = Object.entries(hosts);
  const scenarios: Record<Scenario, string[]> = { A: [], B: [], mixed: [], unknown: [] };
  const worst = { critical: 0, warning: 0, info: 0 };
  const byFinding = new Map<string, { severity: Severity; code: string; hosts: string[]; message: string }>();
  for (const [name, host] of entries) {
    scenarios[host.scenario].push(name);
    const severity = worstOf(host);
    if (severity) worst[severity] += 1;
    for (const finding of host.findings) {
      const key = `${finding.severity}\u0000${finding.code}\u0000${finding.message}`;
      const entry = byFinding.get(key);
      if (entry) {
        if (!entry.hosts.includes(name)) entry.hosts.push(name);
      } else byFinding.set(key, { ...finding, hosts: [name] });
    }
  }
  const findings = [...byFinding.values()].sort(
    (a, b) => severityRank(a.severity) - severityRank(b.severity) || b.hosts.length - a.hosts.length || a.code.localeCompare(b.code),
  );
  const unreachable = entries.filter(([, host]) => host.status === 'unreachable').map(([name]) => name);
  const failed = entries.filter(([, host]) => host.status === 'failed').map(([name]) => name);
  const exitCode = worst.critical > 0 ? EXIT_CRITICAL : unreachable.length + failed.length > 0 ? 2 : 0;
  return {
    hosts: entries.length,
    audited: entries.length - unreachable.length - failed.length,
    unreachable,
    failed,
    scenarios,
    worst,
    findings,
    exitCode,
  };
};

/** Host names, the worst first (critical count, then warnings), inventory order among equals. */
export const hostsWorstFirst = (hosts: Readonly<Record<string, HostAudit>>): string[] => {
  const score = (host: HostAudit) =>
    [0, 1, 2].map((rank) => host.findings.filter((finding) => severityRank(finding.severity) === rank).length);
  return Object.entries(hosts)
    .map(([name, host], index) => ({ name, index, score: score(host) }))
    .sort((a, b) => b.score[0]! - a.score[0]! || b.score[1]! - a.score[1]! || a.index - b.index)
    .map(({ name }) => name);
};
