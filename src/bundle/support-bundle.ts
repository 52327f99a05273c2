// What `casfleet support-bundle <host>` puts in the archive GB support asks for ("please forward
// the iptables"): iptables-save and ip6tables-save, `ufw status verbose`, `batm-manage info`,
// /batm/config/network, gate.properties with secret-looking values redacted, OS and package
// versions, and casfleet's audit of the host. Nothing else from the host; every host text is
// stripped of terminal control characters first.
import { AUDIT_FACTS } from '../audit/audit-facts.ts';
import type { AuditReport } from '../audit/audit-schema.ts';
import type { BatmInfo } from '../facts/batm.ts';
import { type CommandOutput, commandOutputFact } from '../facts/command-output.ts';
import type { AnyFact } from '../facts/fact.ts';
import type { FileState } from '../facts/file.ts';
import type { FactOutcome } from '../facts/gather-script.ts';
import { formatAuditText } from '../report/audit-text.ts';
import { PLAIN } from '../report/format-event.ts';
import { redactProperties, stripControl } from './redact.ts';
import type { ArchiveFile } from './tar-archive.ts';

/** Packages whose versions support asks about (missing ones are listed as such by dpkg-query). */
export const BUNDLE_PACKAGES = ['ufw', 'iptables', 'nftables', 'openssh-server', 'openvpn', 'nginx'];

export const BUNDLE_FACTS = {
  iptables: commandOutputFact('iptables-save', 'iptables-save', 'iptables-save'),
  ip6tables: commandOutputFact('ip6tables-save', 'ip6tables-save', 'ip6tables-save'),
  ufwStatus: commandOutputFact('ufw-status-verbose', 'ufw', 'ufw status verbose'),
  osRelease: commandOutputFact('os-release', 'cat', 'cat /etc/os-release'),
  kernel: commandOutputFact('uname', 'uname', 'uname -srvm'),
  packages: commandOutputFact('packages', 'dpkg-query', `dpkg-query -W -f '\${Package} \${Version}\\n' ${BUNDLE_PACKAGES.join(' ')}`),
} as const satisfies Record<string, AnyFact>;

export interface BundleInput {
  readonly host: string;
  /** The audit of this one host. */
  readonly report: AuditReport;
  /** Everything read in the host's one gather (audit and bundle facts). */
  readonly outcomes: ReadonlyMap<string, FactOutcome>;
  readonly createdAt: Date;
  readonly casfleetVersion: string;
}

const outcomeOf = <T>(outcomes: ReadonlyMap<string, FactOutcome>, fact: AnyFact): { value?: T; error?: string } => {
  const outcome = outcomes.get(fact.id);
  if (!outcome) return { error: 'not read' };
  return outcome.ok ? { value: outcome.value as T } : { error: outcome.error.message };
};

const commandText = (outcomes: ReadonlyMap<string, FactOutcome>, fact: AnyFact, what: string): string => {
  const { value, error } = outcomeOf<CommandOutput>(outcomes, fact);
  if (!value) return `# ${what}: could not be read: ${error}\n`;
  if (!value.present) return `# ${what}: not installed on this host\n`;
  const status = value.exitCode === 0 ? '' : `# ${what} exited ${value.exitCode}\n`;
  return `${status}${stripControl(value.output)}${value.output.endsWith('\n') ? '' : '\n'}`;
};

const fileText = (outcomes: ReadonlyMap<string, FactOutcome>, fact: AnyFact, path: string): { text: string; content?: string } => {
  const { value, error } = outcomeOf<FileState>(outcomes, fact);
  if (!value) return { text: `# ${path}: could not be read: ${error}\n` };
  if (!value.exists) return { text: `# ${path}: does not exist\n` };
  if (value.content === null) return { text: `# ${path}: not a regular file or too large (${value.size} bytes)\n` };
  // Files are read as bytes (Latin-1); CAS's files are ASCII, so decode as UTF-8 for the reader.
  return { text: '', content: stripControl(Buffer.from(value.content, 'latin1').toString('utf8')) };
};

/** The archive's files, under one directory named after the host and the time. */
export const supportBundleFiles = ({ host, report, outcomes, createdAt, casfleetVersion }: BundleInput): ArchiveFile[] => {
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const dir = `casfleet-support-${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}`;
  const batm = outcomeOf<BatmInfo>(outcomes, AUDIT_FACTS.batm);
  const batmText = !batm.value
    ? `# batm-manage info: could not be read: ${batm.error}\n`
    : !batm.value.present
      ? '# /batm/batm-manage does not exist on this host\n'
      : `${batm.value.exitCode === 0 ? '' : `# batm-manage info exited ${batm.value.exitCode}\n`}${stripControl(batm.value.output.join('\n'))}\n`;
  const network = fileText(outcomes, AUDIT_FACTS.casNetwork, '/batm/config/network');
  const gate = fileText(outcomes, AUDIT_FACTS.gateProperties, '/batm/config/gate.properties');
  const redaction = gate.content === undefined ? undefined : redactProperties(gate.content);
  const versions = [
    '# uname -srvm',
    commandText(outcomes, BUNDLE_FACTS.kernel, 'uname'),
    '# /etc/os-release',
    commandText(outcomes, BUNDLE_FACTS.osRelease, 'os-release'),
    `# dpkg-query -W ${BUNDLE_PACKAGES.join(' ')}`,
    commandText(outcomes, BUNDLE_FACTS.packages, 'dpkg-query'),
  ].join('\n');
  const files: Array<[string, string]> = [
    [
      'README.txt',
      [
        `Support bundle for CAS server ${host}, made by casfleet ${casfleetVersion} at ${createdAt.toISOString()}.`,
        'Read-only: collected in one SSH command; nothing on the server was changed.',
        '',
        'iptables-save.txt, ip6tables-save.txt   the live firewall tables',
        'ufw-status-verbose.txt                   ufw status verbose',
        'batm-manage-info.txt                     /batm/batm-manage info',
        'batm-config-network.txt                  /batm/config/network',
        `gate.properties                          /batm/config/gate.properties, secret-looking values replaced by ********${redaction && redaction.redacted.length > 0 ? ` (${redaction.redacted.join(', ')})` : ''}`,
        'versions.txt                             kernel, OS release, package versions',
        'audit.json, audit.txt                    casfleet audit of this server',
        '',
        'Terminal control characters were removed from everything the server printed.',
        '',
      ].join('\n'),
    ],
    ['iptables-save.txt', commandText(outcomes, BUNDLE_FACTS.iptables, 'iptables-save')],
    ['ip6tables-save.txt', commandText(outcomes, BUNDLE_FACTS.ip6tables, 'ip6tables-save')],
    ['ufw-status-verbose.txt', commandText(outcomes, BUNDLE_FACTS.ufwStatus, 'ufw status verbose')],
    ['batm-manage-info.txt', batmText],
    ['batm-config-network.txt', network.content ?? network.text],
    ['gate.properties', redaction?.text ?? gate.text],
    ['versions.txt', versions],
    ['audit.json', `${JSON.stringify(report, null, 2)}\n`],
    ['audit.txt', formatAuditText(report, PLAIN, true)],
  ];
  return files.map(([name, content]) => ({ name: `${dir}/${name}`, content, mode: 0o600 }));
};
