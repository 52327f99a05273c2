// casfleet lab up|status|probe|down: the local lab fleet of simulated CAS servers (root, Linux).

import { existsSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { hostConnection } from '../inventory/connection-vars.ts';
import { selectHosts } from '../inventory/host-pattern.ts';
import { loadInventory } from '../inventory/load-inventory.ts';
import { labDown } from '../lab/lab-down.ts';
import { controllerNetns, DEFAULT_LAB_NAME, labPaths, VPN_ROUTER_ADDRESS } from '../lab/lab-layout.ts';
import { type HostReboot, labReboot } from '../lab/lab-reboot.ts';
import { labStatus } from '../lab/lab-status.ts';
import { labUp } from '../lab/lab-up.ts';
import { CAS_PROBE_PORTS, formatProbeTable } from '../lab/probe-table.ts';
import { probePorts } from '../net/probe.ts';
import { isInsideNetns, reexecInNetns } from './controller-netns.ts';
import { EXIT_HOST_FAILED, EXIT_OK } from './exit-codes.ts';
import { parseCommandLine, positiveInt } from './parse-options.ts';

export const LAB_HELP = `Usage: casfleet lab <up|status|probe|reboot|down> [options]

The lab: simulated CAS servers on this machine (needs root and Linux network namespaces).
Each host has its own network and mount namespace with a real sshd, real ufw/iptables, a /batm
tree (gate.properties, vpn, batm-manage) and listeners on the CAS ports. All hosts sit on a
bridge inside a controller namespace, so nothing reaches a real network. The generated
inventory (groups: all, canary) is the default for every command when -i is not given.

Commands:
  up [--hosts N] [--behind-bastion M]
                          build the lab (default 6 hosts; tears down a previous one of the same name);
                          with M > 0 a jump host 'bastion' is added and the last M hosts are
                          reachable only through it (inventory: ansible_ssh_common_args -J)
  status                  namespaces, sshd and port 22 of every host
  probe [PATTERN]         check from outside which CAS ports are open / closed / filtered
        [--ports LIST] [--from-vpn] [--json]
                          --from-vpn probes from ${VPN_ROUTER_ADDRESS}, the lab's hardware-VPN router address
  reboot PATTERN [--json] what a reboot does to the hosts' firewall: netfilter back to its boot state
                          (empty tables, ACCEPT), then the firewall boot units each host has enabled
                          (casfleet-iptables.service, ufw.service) and CAS's terminal-VPN rules
  down                    stop every lab process and delete the namespaces

Options:
      --name NAME         lab name (default '${DEFAULT_LAB_NAME}'); several labs can run side by side
  -h, --help              show this help

Examples:
  casfleet lab up --hosts 20
  casfleet apply scenario-a
  casfleet lab probe canary --from-vpn
  casfleet lab reboot cas-001 && casfleet lab probe cas-001
  casfleet lab down
`;

const OPTIONS = {
  hosts: { type: 'string' },
  'behind-bastion': { type: 'string' },
  name: { type: 'string' },
  ports: { type: 'string' },
  'from-vpn': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parsePorts = (text: string | undefined): number[] => {
  if (text === undefined) return [...CAS_PROBE_PORTS];
  const ports = text.split(',').map((part) => Number(part.trim()));
  if (ports.some((port) => !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new UsageError(`--ports takes a comma-separated list of ports, got '${text}'`);
  }
  return ports;
};

const ACTIONS = ['up', 'status', 'probe', 'reboot', 'down'] as const;

const describeReboot = (result: HostReboot): string[] => [
  `${result.host}: netfilter reset to its boot state (${result.reset.join(', ') || 'nothing to reset'})`,
  ...result.missingUnits.map((unit) => `${result.host}: FAILED ${unit} is enabled but its unit file is missing`),
  ...result.ran.flatMap((boot) => [
    `${result.host}: ${boot.exitCode === 0 ? 'ran' : `FAILED (exit ${boot.exitCode})`} ${boot.unit}: ${boot.command}`,
    ...(!boot.output ? [] : boot.output.split('\n').map((line) => `    ${line}`)),
  ]),
  ...(result.ran.some((boot) => boot.unit !== 'CAS')
    ? []
    : [`${result.host}: no firewall boot unit is enabled: after a real reboot it accepts everything`]),
];

export const labCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'lab', ACTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    process.stdout.write(LAB_HELP);
    return values.help ? EXIT_OK : 1;
  }
  const name = values.name ?? DEFAULT_LAB_NAME;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  switch (action) {
    case 'up': {
      const hosts = positiveInt(values.hosts, '--hosts') ?? 6;
      if (existsSync(labPaths(name).state)) out(`replacing the running lab '${name}' (its hosts' state is reset)`);
      const started = Date.now();
      const behindBastion = values['behind-bastion'] === undefined ? 0 : Number(values['behind-bastion']);
      if (!Number.isInteger(behindBastion) || behindBastion < 0)
        throw new UsageError(`--behind-bastion takes a whole number, got '${values['behind-bastion']}'`);
      const lab = await labUp({ name, hosts, behindBastion });
      out(`lab '${lab.name}' is up: ${lab.hosts.length} hosts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      out(`  inventory:   ${lab.inventoryPath}   (the default inventory when -i is not given)`);
      out(`  known_hosts: ${lab.knownHostsPath}`);
      out(`  ssh_config:  ${lab.sshConfigPath}   (an alias per host: --ssh-config)`);
      out(`  ops account: sudo with the password in ${lab.becomePasswordPath}`);
      if (lab.bastion) out(`  bastion:     ${lab.bastion.address}; only through it: ${lab.behindBastion.join(', ')}`);
      out(`  controller:  network namespace ${lab.controllerNetns}`);
      out('next: casfleet apply scenario-a   ·   casfleet lab probe   ·   casfleet lab down');
      return EXIT_OK;
    }
    case 'status': {
      const status = await labStatus({ name });
      if (!status.exists) {
        out(`lab '${name}' is not up (casfleet lab up)`);
        return EXIT_HOST_FAILED;
      }
      out(
        `lab '${name}': ${status.healthy ? 'healthy' : 'DEGRADED'} · controller ${status.controllerPresent ? 'present' : 'MISSING'} · listener ${status.listenerAlive ? 'alive' : 'DEAD'}`,
      );
      for (const host of status.hosts) {
        const state = [
          host.netnsPresent ? 'netns' : 'NO NETNS',
          host.sshdAlive ? `sshd ${host.sshdPid}` : 'SSHD DOWN',
          host.sshAnswering ? 'ssh answering' : 'SSH SILENT',
        ];
        out(`  ${host.name}  ${host.address.padEnd(12)} ${state.join(' · ')}`);
      }
      return status.healthy ? EXIT_OK : EXIT_HOST_FAILED;
    }
    case 'probe': {
      const ctl = controllerNetns(name);
      if (!isInsideNetns(ctl)) return reexecInNetns(ctl);
      const inventory = await loadInventory(labPaths(name).inventory);
      const hosts = selectHosts(inventory, rest.join(',') || 'all');
      const ports = parsePorts(values.ports);
      const sourceAddress = values['from-vpn'] ? VPN_ROUTER_ADDRESS : undefined;
      const rows = await Promise.all(
        hosts.map(async (host) => ({
          host,
          results: await probePorts({
            address: hostConnection(inventory.hosts.get(host)!).address,
            ports,
            ...(sourceAddress ? { sourceAddress } : {}),
          }),
        })),
      );
      if (values.json)
        out(
          JSON.stringify(Object.fromEntries(rows.map((row) => [row.host, Object.fromEntries(row.results.map((r) => [r.port, r.state]))]))),
        );
      else
        for (const line of formatProbeTable(rows, ports, `ports as seen from ${sourceAddress ?? 'the internet side (controller)'}:`))
          out(line);
      return EXIT_OK;
    }
    case 'reboot': {
      if (rest.length === 0) throw new UsageError('lab reboot needs a host pattern (a name, a group, or all)');
      const inventory = await loadInventory(labPaths(name).inventory);
      const results = await labReboot({ name, hosts: selectHosts(inventory, rest.join(',')) });
      if (values.json) out(JSON.stringify(results));
      else for (const line of results.flatMap(describeReboot)) out(line);
      return results.every((result) => result.ok) ? EXIT_OK : EXIT_HOST_FAILED;
    }
    case 'down': {
      const report = await labDown({ name });
      out(`lab '${name}' is down: ${report.deletedNetns.length} namespaces deleted, ${report.killed.length} processes stopped`);
      return EXIT_OK;
    }
    default:
      throw new UsageError(`unknown lab command '${action}'; use ${ACTIONS.join(', ')}`);
  }
};
