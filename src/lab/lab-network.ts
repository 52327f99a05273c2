// The lab's network: one controller namespace with a bridge, one namespace per host, veth pairs
// created directly inside those namespaces (nothing is ever placed in, or linked to, the root
// namespace, so no lab packet can reach a real network). One `ip -batch` per stage keeps it fast.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { mapLimit, run, runChecked } from './lab-exec.ts';
import {
  ADMIN_BIND_IP,
  BRIDGE_NAME,
  CONTROLLER_ADDRESS,
  hostRelativePaths,
  LAN_PREFIX_LENGTH,
  type LabHostLayout,
  MASTER_BIND_IP,
  netnsPrefix,
  VPN_ROUTER_ADDRESS,
  VPN_ROUTER_SUBNET,
  VPN_SIDE_DEVICE,
  vpnProbeSource,
  vpnProbeTable,
} from './lab-layout.ts';
import { renderHostNetBatch } from './lab-templates.ts';

/** Names from `ip netns list` ("name (id: 3)" → "name"). */
export const listNetns = async (): Promise<string[]> => {
  const result = await run(['ip', 'netns', 'list']);
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
};

export const labNetnsIn = (all: readonly string[], labName: string): string[] =>
  all.filter((name) => name.startsWith(netnsPrefix(labName)));

export const renderControllerBatch = (hosts: readonly LabHostLayout[]): string =>
  [
    'link set lo up',
    `link add ${BRIDGE_NAME} type bridge`,
    `addr add ${CONTROLLER_ADDRESS}/${LAN_PREFIX_LENGTH} dev ${BRIDGE_NAME}`,
    // The "hardware VPN router": Scenario B allows 7741 only from this subnet; probes use it as source.
    `addr add ${VPN_ROUTER_ADDRESS}/${VPN_ROUTER_SUBNET.split('/')[1]} dev ${BRIDGE_NAME}`,
    `link set ${BRIDGE_NAME} up`,
    // Both ends are born in lab namespaces: the peer goes straight into the host's namespace as eth0.
    ...hosts.flatMap((host) => [
      `link add ${host.veth} type veth peer name eth0 netns ${host.netns}`,
      `link set ${host.veth} master ${BRIDGE_NAME} up`,
    ]),
    // Per host, a source address whose traffic to CAS's VPN-side addresses is routed via that host,
    // so the audit can probe them from outside (see vpnProbeSource in lab-layout.ts).
    ...hosts.flatMap((host) => [
      `addr add ${vpnProbeSource(host.index)}/32 dev ${BRIDGE_NAME}`,
      `rule add from ${vpnProbeSource(host.index)} table ${vpnProbeTable(host.index)}`,
      ...[MASTER_BIND_IP, ADMIN_BIND_IP].map(
        (address) => `route add ${address} via ${host.address} dev ${BRIDGE_NAME} table ${vpnProbeTable(host.index)}`,
      ),
    ]),
    '',
  ].join('\n');

export interface CreateLabNetworkInput {
  readonly controllerNetns: string;
  readonly hosts: readonly LabHostLayout[];
  /** Lab directory: each host's `ip -batch` file is written under hosts/<id>/. */
  readonly dir: string;
}

export const createLabNetwork = async ({ controllerNetns, hosts, dir }: CreateLabNetworkInput): Promise<void> => {
  const names = [controllerNetns, ...hosts.map((host) => host.netns)];
  await runChecked('creating network namespaces', ['ip', '-batch', '-'], {
    input: `${names.map((name) => `netns add ${name}`).join('\n')}\n`,
  });
  await runChecked('building the controller bridge and veth pairs', ['ip', '-n', controllerNetns, '-batch', '-'], {
    input: renderControllerBatch(hosts),
  });
  // `ip -batch` cannot switch namespaces per line, so each host needs its own (tiny) ip process.
  await mapLimit(hosts, 8, async (host) => {
    const file = join(dir, hostRelativePaths(host.id).netBatch);
    writeFileSync(file, renderHostNetBatch(host.address, LAN_PREFIX_LENGTH, CONTROLLER_ADDRESS, VPN_ROUTER_SUBNET, VPN_SIDE_DEVICE));
    await runChecked(`configuring ${host.name}'s network`, ['ip', '-n', host.netns, '-batch', file]);
  });
};

/** Delete every namespace of this lab that exists; returns what was deleted. Never fails on "already gone". */
export const deleteLabNetns = async (labName: string): Promise<string[]> => {
  const mine = labNetnsIn(await listNetns(), labName);
  if (mine.length === 0) return [];
  // -force: keep going past a namespace that vanished meanwhile.
  await run(['ip', '-force', '-batch', '-'], { input: `${mine.map((name) => `netns del ${name}`).join('\n')}\n` });
  const left = labNetnsIn(await listNetns(), labName);
  if (left.length > 0) {
    const retry = await run(['ip', '-force', '-batch', '-'], { input: `${left.map((name) => `netns del ${name}`).join('\n')}\n` });
    const still = labNetnsIn(await listNetns(), labName);
    if (still.length > 0) {
      throw new LabError(`could not delete network namespaces: ${still.join(', ')}\n${retry.stderr.trim()}`);
    }
  }
  return mine;
};
