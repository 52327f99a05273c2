// Pure formatting of port probes as a host × port table, for `casfleet lab probe` and the demo.
import type { PortProbeResult } from '../net/probe.ts';

export const CAS_PROBE_PORTS = [22, 7741, 7742, 13000, 13010, 12000, 12050, 7777, 7743, 443] as const;

export interface HostProbes {
  readonly host: string;
  readonly results: readonly PortProbeResult[];
}

export const formatProbeTable = (rows: readonly HostProbes[], ports: readonly number[], title: string): string[] => {
  const nameWidth = Math.max(4, ...rows.map((row) => row.host.length));
  const cell = (text: string) => text.padEnd(10);
  const lines = [title, `${'host'.padEnd(nameWidth)}  ${ports.map((port) => cell(String(port))).join('')}`.trimEnd()];
  for (const row of rows) {
    const states = ports.map((port) => cell(row.results.find((result) => result.port === port)?.state ?? '?'));
    lines.push(`${row.host.padEnd(nameWidth)}  ${states.join('')}`.trimEnd());
  }
  return lines;
};
