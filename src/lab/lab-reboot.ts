// `casfleet lab reboot`: proves a host's firewall comes back after a reboot. lab-reboot.sh runs in
// the host's namespaces: netfilter back to its boot state, then the firewall units the host has
// enabled, then CAS's own terminal-VPN rules; its output is parsed here into what ran.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.ts';
import { mapLimit } from './lab-exec.ts';
import { runInHost } from './lab-host-exec.ts';

export interface BootCommand {
  /** `casfleet-iptables.service`, `ufw.service`, … or `CAS` for /batm/vpngen/firewall.rules. */
  readonly unit: string;
  readonly command: string;
  readonly exitCode: number;
  readonly output: string;
}

export interface HostReboot {
  readonly host: string;
  /** The iptables frontends whose tables were reset (`iptables`, `ip6tables`, …). */
  readonly reset: readonly string[];
  readonly ran: readonly BootCommand[];
  /** Enabled units whose unit file is missing (they would fail at boot). */
  readonly missingUnits: readonly string[];
  /** Every boot command exited 0 and no enabled unit is missing. */
  readonly ok: boolean;
}

/** Parses lab-reboot.sh's output (see its header). */
export const parseRebootOutput = (host: string, output: string): HostReboot => {
  const reset: string[] = [];
  const ran: { unit: string; command: string; exitCode: number; output: string[] }[] = [];
  const missingUnits: string[] = [];
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const boot = /^(boot (\S+)|cas) (\d+) (.*)$/.exec(line);
    if (line.startsWith('| ') && ran.length > 0) ran[ran.length - 1]!.output.push(line.slice(2));
    else if (line.startsWith('reset ')) reset.push(line.slice('reset '.length));
    else if (line.startsWith('unit-missing ')) missingUnits.push(line.slice('unit-missing '.length));
    else if (boot) ran.push({ unit: boot[2] ?? 'CAS', exitCode: Number(boot[3]), command: boot[4] ?? '', output: [] });
    else throw new LabError(`lab reboot of ${host}: unexpected output line "${line}"`);
  }
  const commands = ran.map((entry) => ({ ...entry, output: entry.output.join('\n') }));
  return { host, reset, ran: commands, missingUnits, ok: missingUnits.length === 0 && commands.every((entry) => entry.exitCode === 0) };
};

const SCRIPT = fileURLToPath(new URL('./lab-reboot.sh', import.meta.url));

export interface LabRebootOptions {
  readonly name?: string;
  readonly dir?: string;
  /** Inventory names of the hosts to reboot. */
  readonly hosts: readonly string[];
}

/** Reboots the hosts (a few at a time); resolves with what each one's boot ran. */
export const labReboot = async ({ name, dir, hosts }: LabRebootOptions): Promise<HostReboot[]> => {
  const script = readFileSync(SCRIPT, 'utf8');
  return mapLimit(hosts, 4, async (host) => {
    const result = await runInHost({ ...(name ? { name } : {}), ...(dir ? { dir } : {}), host, input: script }, ['sh', '-s']);
    if (result.code !== 0) throw new LabError(`lab reboot of ${host} failed (exit ${result.code}): ${result.stderr.trim()}`, { host });
    return parseRebootOutput(host, result.stdout);
  });
};
