// Integration-test helpers: a private lab per test file (ava runs files in parallel; each lab has
// its own namespaces, so identical subnets never clash), OpenSSH and probes from its controller.
//
//   const lab = await startLab({ hosts: 3 });      // in test.before
//   await lab.ssh(1, 'ufw status');                 // host by index or inventory name
//   await stopLab(lab);                             // in test.after.always
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'ava';
import { type LabDownReport, labDown } from '../../src/lab/lab-down.ts';
import { type RunResult, run } from '../../src/lab/lab-exec.ts';
import { runInHost } from '../../src/lab/lab-host-exec.ts';
import type { LabHostLayout } from '../../src/lab/lab-layout.ts';
import { labSshArgv } from '../../src/lab/lab-ssh-client.ts';
import { type LabInfo, labUp } from '../../src/lab/lab-up.ts';
import { probeFromController } from '../../src/lab/probe-from-controller.ts';
import type { PortProbeResult } from '../../src/net/probe.ts';
import { type CliResult, runCli } from './cli.ts';

/** Why the lab cannot run here, or undefined when it can (use with test.skip / t.pass). */
export const labUnavailableReason = (): string | undefined => {
  if (process.platform !== 'linux') return 'the lab needs Linux';
  if (process.getuid?.() !== 0) return 'the lab needs root';
  if (!existsSync('/usr/sbin/sshd')) return 'the lab needs openssh-server';
  return undefined;
};

export interface StartLabOptions {
  readonly hosts?: number;
  /** [a-z] letters prefixed to the unique name, to tell labs apart in `ip netns list`. */
  readonly prefix?: string;
  /** Add a bastion and hide the last N hosts behind it. */
  readonly behindBastion?: number;
}

export interface TestLab extends LabInfo {
  host(ref: number | string): LabHostLayout;
  /** OpenSSH from the controller, strict host-key checking against the lab's known_hosts. */
  ssh(ref: number | string, command: string, options?: { timeoutMs?: number }): Promise<RunResult>;
  /** Inside the host's namespaces without SSH (nsenter into its sshd). */
  exec(ref: number | string, argv: readonly string[]): Promise<RunResult>;
  /** `sh -c script` inside the host's namespaces: its stdout, or an Error with its exit code and stderr. */
  sh(ref: number | string, script: string): Promise<string>;
  probe(
    ref: number | string,
    ports: readonly number[],
    options?: { sourceAddress?: string; timeoutMs?: number },
  ): Promise<PortProbeResult[]>;
}

let counter = 0;

/** Unique per process and call: `t<pid>n<k>` (lab names allow only [a-z0-9], at most 24 chars). */
export const uniqueLabName = (prefix = 't'): string => `${prefix.replace(/[^a-z]/g, '').slice(0, 6) || 't'}${process.pid}n${counter++}`;

export const startLab = async ({ hosts = 3, prefix = 't', behindBastion = 0 }: StartLabOptions = {}): Promise<TestLab> => {
  const name = uniqueLabName(prefix);
  const info = await labUp({ name, hosts, behindBastion, dir: join(tmpdir(), 'casfleet-test-labs', name) });
  const host = (ref: number | string): LabHostLayout => {
    const found = info.hosts.find((h) => (typeof ref === 'number' ? h.index === ref : h.name === ref));
    if (!found) throw new Error(`lab ${name} has no host ${ref}`);
    return found;
  };
  const exec = (ref: number | string, argv: readonly string[]) => runInHost({ name, dir: info.dir, host: host(ref).index }, argv);
  return {
    ...info,
    host,
    ssh: (ref, command, options = {}) =>
      run(['ip', 'netns', 'exec', info.controllerNetns, ...labSshArgv(info, host(ref).address, command, ['ConnectTimeout=10'])], {
        timeoutMs: options.timeoutMs ?? 30_000,
      }),
    exec,
    sh: async (ref, script) => {
      const result = await exec(ref, ['sh', '-c', script]);
      if (result.code !== 0) throw new Error(`${ref}: ${script}: exit ${result.code}: ${result.stderr}`);
      return result.stdout;
    },
    probe: (ref, ports, options = {}) => probeFromController({ name, address: host(ref).address, ports, ...options }),
  };
};

export const stopLab = async (lab: Pick<LabInfo, 'name' | 'dir'> | undefined): Promise<LabDownReport | undefined> => {
  if (!lab) return undefined;
  const report = await labDown({ name: lab.name, dir: lab.dir });
  // lab down removes only what lab up wrote; the rest of this directory is what the tests wrote
  // there (inventories, known_hosts), and the directory is the test's own (startLab made it).
  rmSync(lab.dir, { recursive: true, force: true });
  try {
    rmdirSync(dirname(lab.dir)); // the shared parent, once the last test lab is gone
  } catch {
    // another test file's lab is still there
  }
  return report;
};

export interface FileLab {
  /** Why the lab cannot run here, or undefined when it can. */
  readonly unavailable: string | undefined;
  /** test.serial, or test.serial.skip where the lab cannot run. */
  readonly serial: typeof test.serial | typeof test.serial.skip;
  /** The running lab (throws when it was not started). */
  the(): TestLab;
  /** `casfleet apply <args> -i <the lab's inventory> --json` as a user would run it. */
  apply(...args: string[]): Promise<CliResult>;
}

/** One private lab for a whole test file: started before its tests, always stopped after them. */
export const labForFile = (options: StartLabOptions): FileLab => {
  const unavailable = labUnavailableReason();
  let lab: TestLab | undefined;
  test.before(async () => {
    if (!unavailable) lab = await startLab(options);
  });
  test.after.always(async () => {
    await stopLab(lab);
  });
  const the = (): TestLab => {
    if (!lab) throw new Error('lab not started');
    return lab;
  };
  return {
    unavailable,
    serial: unavailable ? test.serial.skip : test.serial,
    the,
    apply: (...args) => runCli(['apply', ...args, '-i', the().inventoryPath, '--json']),
  };
};
