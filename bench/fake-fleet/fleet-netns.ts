// The fake fleet's network: two namespaces of our own, <prefix>-ctl (the controller) and
// <prefix>-fleet (every fake host's address on one veth end), joined by a veth pair born inside
// them. Nothing is placed in, or linked to, the root namespace.
import { run, runChecked } from '../../src/lab/lab-exec.ts';
import { listNetns } from '../../src/lab/lab-network.ts';

export const FLEET_CONTROLLER_ADDRESS = '10.250.0.1';

export interface FleetNetns {
  readonly controller: string;
  readonly fleet: string;
  readonly addresses: readonly string[];
}

export const fleetAddress = (index: number): string => `10.250.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;

export const createFleetNetns = async (prefix: string, hosts: number): Promise<FleetNetns> => {
  const netns = {
    controller: `${prefix}-ctl`,
    fleet: `${prefix}-fleet`,
    addresses: Array.from({ length: hosts }, (_, i) => fleetAddress(i)),
  };
  await runChecked('creating the fake fleet namespaces', ['ip', '-batch', '-'], {
    input: `netns add ${netns.controller}\nnetns add ${netns.fleet}\n`,
  });
  await runChecked('building the fake fleet controller side', ['ip', '-n', netns.controller, '-batch', '-'], {
    input: [
      'link set lo up',
      `link add ${prefix}-c type veth peer name ${prefix}-f netns ${netns.fleet}`,
      `addr add ${FLEET_CONTROLLER_ADDRESS}/16 dev ${prefix}-c`,
      `link set ${prefix}-c up`,
      '',
    ].join('\n'),
  });
  await runChecked("adding the fake hosts' addresses", ['ip', '-n', netns.fleet, '-batch', '-'], {
    input: [
      'link set lo up',
      ...netns.addresses.map((address) => `addr add ${address}/16 dev ${prefix}-f`),
      `link set ${prefix}-f up`,
      '',
    ].join('\n'),
  });
  return netns;
};

/** Deletes every namespace named <prefix>-*: this run's, and any a crashed run left behind. */
export const deleteFleetNetns = async (prefix: string): Promise<void> => {
  const mine = (await listNetns()).filter((name) => name.startsWith(`${prefix}-`));
  if (mine.length > 0) await run(['ip', '-force', '-batch', '-'], { input: `${mine.map((name) => `netns del ${name}`).join('\n')}\n` });
};
