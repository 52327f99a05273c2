// The iptables backend (GB's "Option 2") as one desired state: casfleet's chain CASFLEET-INPUT in
// iptables and ip6tables holding the whole managed rule set in GB's order, one jump to it from INPUT,
// and the boot files that load the same rules after a reboot (iptables-boot.ts). Planning is pure:
// it compares the chain lines iptables-save shows with the lines the plan renders (iptables-chain.ts),
// so a re-run on a converged host changes nothing. When anything differs the chain is replaced in ONE
// `iptables-restore --noflush` per family: the kernel swaps the whole chain at once, so there is no
// moment with half a rule set (never rule by rule, as GB's iptables commands would). Rules in INPUT
// that are not casfleet's are never touched and keep their places; the nat table is never touched;
// CAS's /batm/vpngen/firewall.rules is re-sourced after a load.
import { z } from 'zod';
import { joinCommands, type RemoteCommand, raw, sh } from '../command/shell.ts';
import { StepPlanError } from '../errors.ts';
import { parseArgs } from '../facts/args.ts';
import { FILE_TYPE_NAMES, type FileState, fileFact } from '../facts/file.ts';
import { type IptablesHost, iptablesHost } from '../facts/iptables-host.ts';
import type { IptablesTable } from '../facts/iptables-save.ts';
import { type KernelFirewall, kernelFirewall } from '../facts/kernel-firewall.ts';
import { type NetworkState, networkInterfaces } from '../facts/network.ts';
import { type SshConnection, sshConnection } from '../facts/ssh-connection.ts';
import { type UfwState, ufwState } from '../facts/ufw.ts';
import { diffLines } from '../report/text-diff.ts';
import { parseCidr } from './cidr.ts';
import { BOOT_UNIT, BOOT_UNIT_FILE, BOOT_UNIT_LINK, bootFiles, RULES_FILE_MARK, RULES_FILES } from './iptables-boot.ts';
import { type ChainLines, type Family, JUMP_RULE, JUMP_SPEC, MANAGED_CHAIN, renderChains, ruleText } from './iptables-chain.ts';
import { analyseKernel } from './kernel-truth.ts';
import { kernelProblems, kernelWarnings } from './kernel-verdict.ts';
import { assertInterfacesExist, interfaceResolver } from './public-interface.ts';
import { atomicWrite, sha256Latin1 } from './remote-file.ts';
import { chainGuardRules, checkChainSshAccess, lockOutMessage } from './ssh-guard.ts';
import { type Change, defineStep, NO_COMMAND, noChange, type Step, type StepPlan } from './step.ts';
import { CONNECTION_PORT, DEFAULT_ROUTE, interfaceName, managedRuleSchema, sshAllowed } from './ufw-managed-rule.ts';
import { reapplyVpngenSnippet, VPNGEN_RULES } from './vpngen-rules.ts';

// ufw's `limit` is a rate limit built from ufw's own chains; the managed policy never uses it.
const iptablesRuleSchema = managedRuleSchema
  .refine((rule) => rule.action !== 'limit', {
    message: "the iptables backend takes allow, deny or reject ('limit' is ufw's)",
    path: ['action'],
  })
  .refine((rule) => !/["\\]/.test(rule.comment), {
    message: 'the iptables backend does not accept " or \\ in comments',
    path: ['comment'],
  });

const port = z.number().int().min(1).max(65535);

export const iptablesRuleSetSchema = z
  .object({
    rules: z.array(iptablesRuleSchema).min(1),
    /** Where the final drop applies: GB's "block everything else" on the public interface. */
    publicInterface: z.union([z.literal(DEFAULT_ROUTE), interfaceName]).default(DEFAULT_ROUTE),
    /** The sshd port the plan must keep open; default: the port of this SSH session on each host. */
    sshPort: z.union([port, z.literal(CONNECTION_PORT)]).default(CONNECTION_PORT),
    /** Ports only the managed chain may open: a kernel rule before its jump accepting one fails the host. */
    protectedPorts: z.array(z.union([port, z.tuple([port, port])])).default([]),
  })
  .strict();

export type IptablesRuleSetArgs = z.input<typeof iptablesRuleSetSchema>;
export type IptablesDesired = z.output<typeof iptablesRuleSetSchema>;

export interface IptablesFacts {
  readonly host: IptablesHost;
  readonly kernel: KernelFirewall;
  readonly network: NetworkState;
  /** ufw's files: the kernel truth tells ufw's own chains from foreign rules with them. */
  readonly ufw: UfwState;
  /** The SSH session casfleet plans over; null when the host does not know it (not an SSH login). */
  readonly session: SshConnection | null;
  /** The boot files and the enabling link, by path (see iptables-boot.ts). */
  readonly files: Readonly<Record<string, FileState>>;
}

/**
 * The families this host's plan manages, with their live filter table (undefined when the kernel
 * has none yet: nothing was ever loaded). IPv6 is managed whenever the kernel has it: an IPv6 left
 * out would stay wide open. A table that cannot be read stops the plan.
 */
export const managedFamilies = (kernel: KernelFirewall): Partial<Record<Family, IptablesTable | undefined>> => {
  const live: Partial<Record<Family, IptablesTable | undefined>> = {};
  for (const family of ['v4', 'v6'] as const) {
    const state = kernel[family];
    if (!state) continue;
    if (!state.ok) throw new StepPlanError(`cannot read the ${family === 'v4' ? 'IPv4' : 'IPv6'} tables: ${state.error}`);
    live[family] = state.dump.tables.filter;
  }
  return live;
};

const FAMILY_TOOLS = {
  v4: { save: 'iptables-save', restore: 'iptables-restore' },
  v6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
} as const;

/** The managed chain of one family as it runs: its lines (undefined when the chain does not exist) and the INPUT jumps. */
export const runningChain = (filter: IptablesTable | undefined): { lines?: string[]; jumps: number; inputRules: number } => {
  const rules = filter?.rules ?? [];
  const input = rules.filter((rule) => rule.chain === 'INPUT');
  const exists = filter !== undefined && filter.chains[MANAGED_CHAIN] !== undefined;
  return {
    ...(exists ? { lines: rules.filter((rule) => rule.chain === MANAGED_CHAIN).map((rule) => rule.text) } : {}),
    jumps: input.filter((rule) => rule.text === JUMP_RULE).length,
    inputRules: input.length,
  };
};

/** The iptables-restore input that replaces the managed chain and leaves exactly one jump. */
const restoreInput = (chain: readonly string[], jumps: number): string =>
  [
    '*filter',
    // Declaring an existing chain under --noflush empties it first (nf_tables and legacy alike).
    `:${MANAGED_CHAIN} - [0:0]`,
    ...chain,
    // A missing jump goes first in INPUT: the managed chain decides before any other rule.
    ...(jumps === 0 ? [`-I INPUT 1 ${JUMP_SPEC}`] : Array.from({ length: jumps - 1 }, () => `-D INPUT ${JUMP_SPEC}`)),
    'COMMIT',
    '',
  ].join('\n');

const loadCommand = (inputs: readonly { family: Family; tool: string; input: string }[], reapply: boolean): RemoteCommand => {
  const loads = inputs.map(
    ({ tool, input }) => sh`${tool} -w 10 --noflush <<'CASFLEET_RULES' || rc=$?
${raw(input)}CASFLEET_RULES`,
  );
  const script = sh`rc=0
${joinCommands(loads)}
[ "$rc" -ne 0 ] || { true${reapply ? reapplyVpngenSnippet('the iptables load') : raw('')}
}
exit $rc`;
  return {
    script: script.script,
    display: inputs.map(({ tool, input }) => `${tool} -w 10 --noflush <<'CASFLEET_RULES'\n${input}CASFLEET_RULES`).join('\n'),
  };
};

const describeChain = (family: Family, running: ReturnType<typeof runningChain>): string[] => [
  `[${family}] INPUT: ${running.jumps === 0 ? 'no jump to' : running.jumps === 1 ? 'jumps to' : `${running.jumps} jumps to`} ${MANAGED_CHAIN}`,
  ...(running.lines === undefined
    ? [`[${family}] (no ${MANAGED_CHAIN} chain)`]
    : running.lines.map((line) => `[${family}] ${ruleText(line)}`)),
];

const describeFile = (path: string, state: FileState, desired: string): string =>
  `${path}: ${!state.exists ? 'absent' : state.type !== 'file' ? `a ${state.type}` : state.content === desired ? 'as planned' : 'differs from the plan'}`;

/** casfleet-iptables.service is enabled: the link `systemctl enable` makes points at the unit. */
export const linkOk = (state: FileState | undefined): boolean =>
  state?.exists === true && state.type === 'symlink' && state.target === BOOT_UNIT_FILE;

/** Plans the iptables changes from the facts (pure). Throws StepPlanError when the state cannot be reached safely. */
export const planIptablesRuleSet = (desired: IptablesDesired, facts: IptablesFacts): StepPlan => {
  const { host, kernel, network, files, ufw, session } = facts;
  for (const family of ['v4', ...(kernel.v6 ? ['v6' as const] : [])] as const) {
    const missing = Object.values(FAMILY_TOOLS[family]).filter((tool) => host.tools[tool] === undefined);
    if (missing.length > 0) throw new StepPlanError(`${missing.join(' and ')} not found on this host (install the iptables package)`);
  }
  const backend = { chain: MANAGED_CHAIN };
  const truth = analyseKernel({
    ufw,
    kernel,
    protectedPorts: desired.protectedPorts.map((p) => (Array.isArray(p) ? p : [p, p])),
    managedChain: MANAGED_CHAIN,
  });
  const problems = kernelProblems(truth, { backend, ipv6: true });
  if (problems.length > 0) throw new StepPlanError(problems.join('; '));
  const live = managedFamilies(kernel);
  const families = (['v4', 'v6'] as const).filter((family) => family in live);
  if (!session) {
    throw new StepPlanError(
      'cannot tell which SSH connection to keep open: SSH_CONNECTION is not set on the host, so the lock-out check cannot run',
    );
  }
  const sshPort = desired.sshPort === CONNECTION_PORT ? session.serverPort : desired.sshPort;
  const rules = desired.rules.map((rule) => ({ ...rule, port: rule.port === CONNECTION_PORT ? session.serverPort : rule.port }));
  if (!rules.some((rule) => sshAllowed(rule, sshPort))) {
    throw new StepPlanError(`the desired rules have no allow for SSH (tcp port ${sshPort}): the final drop would lock you out`);
  }
  rules.forEach((rule, index) => {
    const family = rule.from === undefined ? undefined : parseCidr(rule.from)?.family;
    if (family === 'v6' && !families.includes('v6'))
      throw new StepPlanError(`rule #${index + 1} allows from IPv6 ${rule.from} but this host has no IPv6 filter table`);
  });
  const interfaceOf = interfaceResolver([...rules.map((rule) => rule.interface), desired.publicInterface], network);
  const publicInterface = interfaceOf(desired.publicInterface);
  const interfaces = rules.map((rule) => interfaceOf(rule.interface));
  assertInterfacesExist(
    [...interfaces.map((iface, index) => ({ iface, rule: index + 1 })), { iface: publicInterface, label: 'the final drop' }],
    network,
  );
  const verdict = checkChainSshAccess({ connection: session, rules, interfaces, publicInterface });
  const lockOut = verdict.allowed
    ? undefined
    : lockOutMessage(
        { connection: session, rules: chainGuardRules({ connection: session, rules, interfaces, publicInterface }) },
        verdict,
        sshPort,
      );
  const warnings: string[] = kernelWarnings(truth, { backend });
  const chains: ChainLines = renderChains(rules, interfaceOf, publicInterface, families);

  const summaries: string[] = [];
  const inputs: { family: Family; tool: string; input: string }[] = [];
  const before: string[] = [];
  const after: string[] = [];
  for (const family of families) {
    const running = runningChain(live[family]);
    const wanted = chains[family];
    before.push(...describeChain(family, running));
    after.push(...describeChain(family, { lines: [...wanted], jumps: 1, inputRules: 0 }));
    const chainDiffers = running.lines === undefined || running.lines.join('\n') !== wanted.join('\n');
    if (!chainDiffers && running.jumps === 1) continue;
    if (running.lines === undefined) summaries.push(`+ [${family}] chain ${MANAGED_CHAIN}`);
    for (const line of diffLines((running.lines ?? []).join('\n'), wanted.join('\n'))) {
      if (!line.startsWith(' ')) summaries.push(`${line[0]} [${family}] ${ruleText(line.slice(2))}`);
    }
    if (running.jumps === 0)
      summaries.push(
        `+ [${family}] INPUT rule 1: ${JUMP_SPEC} (the managed chain decides first; ${running.inputRules} other INPUT rules kept)`,
      );
    if (running.jumps > 1)
      summaries.push(`- [${family}] ${running.jumps - 1} duplicate INPUT ${running.jumps === 2 ? 'jump' : 'jumps'} to ${MANAGED_CHAIN}`);
    inputs.push({ family, tool: host.tools[FAMILY_TOOLS[family].restore] as string, input: restoreInput(wanted, running.jumps) });
  }
  const changes: Change[] = [];
  if (inputs.length > 0) {
    const reapply = host.vpngenRules;
    if (reapply) summaries.push(`~ re-apply ${VPNGEN_RULES} (CAS terminal-VPN rules) after the load`);
    const command = loadCommand(inputs, reapply);
    for (const [i, summary] of summaries.entries()) changes.push({ summary, command: i === 0 ? command : NO_COMMAND });
  }

  // The boot files: written from the plan, so once the load converged they equal the running rules.
  const wantedFiles = bootFiles(chains, families, { v4: host.tools['iptables-restore'], v6: host.tools['ip6tables-restore'] });
  for (const [path, content] of wantedFiles) {
    const state = files[path] ?? { exists: false };
    before.push(describeFile(path, state, content));
    after.push(`${path}: as planned`);
    if (state.exists && state.type === 'file' && state.content === content) continue;
    if (state.exists && state.content !== null && path !== BOOT_UNIT_FILE && !state.content.startsWith(RULES_FILE_MARK)) {
      warnings.push(
        `${path} holds rules casfleet did not write: it is backed up under /var/backups/casfleet and replaced, so those rules no longer load at boot`,
      );
    }
    if (state.exists && (state.type !== 'file' || state.content === null)) {
      throw new StepPlanError(
        `${path} is ${state.type !== 'file' ? `${FILE_TYPE_NAMES[state.type]}, not a regular file` : 'too large to be a casfleet boot file'}; refusing to replace it`,
      );
    }
    const reload = path === BOOT_UNIT_FILE && host.systemd ? raw('\nsystemctl daemon-reload') : raw('');
    // An existing file keeps its owner and mode; new rule files are root-only like ufw's, units 0644 as systemd's.
    const meta = state.exists ? state : { uid: 0, gid: 0, mode: path === BOOT_UNIT_FILE ? '644' : '640' };
    const write = atomicWrite(path, meta, state.exists ? sha256Latin1(state.content ?? '') : null, content);
    changes.push({
      summary: `${state.exists ? '~' : '+'} ${path} (${path === BOOT_UNIT_FILE ? 'the boot unit' : `the ${path.endsWith('v6') ? 'IPv6' : 'IPv4'} rules loaded at boot`})`,
      command: sh`${write.command}${reload}`,
      stdin: write.stdin,
    });
  }
  const link = files[BOOT_UNIT_LINK];
  before.push(`${BOOT_UNIT}: ${linkOk(link) ? 'enabled' : 'not enabled'}`);
  after.push(`${BOOT_UNIT}: enabled`);
  if (!linkOk(link)) {
    changes.push({
      summary: `+ enable ${BOOT_UNIT} (loads ${families.map((family) => RULES_FILES[family]).join(' and ')} at boot)`,
      command: enableCommand(host.systemd),
    });
  }

  if (changes.length === 0 && lockOut) warnings.push(`new SSH logins like this one are already refused: ${lockOut}`);
  const extra = warnings.length > 0 ? { warnings } : {};
  if (lockOut && changes.length > 0) throw new StepPlanError(lockOut);
  if (changes.length === 0) {
    const counts = families.map((family) => `${family}: ${chains[family].length} rules`).join(', ');
    return noChange(
      `${MANAGED_CHAIN} loaded (${counts}) with its INPUT jump, equal to the boot files, loaded at boot by ${BOOT_UNIT}`,
      extra,
    );
  }
  return { changes, diff: { before: before.join('\n'), after: after.join('\n') }, ...extra };
};

/** `systemctl enable` as the link it makes (works without a running systemd), plus daemon-reload under systemd. */
export const enableCommand = (systemd: boolean): RemoteCommand => sh`set -eu
mkdir -p -- ${BOOT_UNIT_LINK.replace(/\/[^/]+$/, '')}
ln -sfn -- ${BOOT_UNIT_FILE} ${BOOT_UNIT_LINK}${systemd ? raw('\nsystemctl daemon-reload') : raw('')}
echo ${`enabled: ${BOOT_UNIT}`}`;

/**
 * The iptables backend as a whole desired state: the managed chain loaded and jumped to from INPUT,
 * the same rules in /etc/iptables/rules.v4 (and rules.v6), and casfleet-iptables.service enabled.
 */
export const iptablesRuleSet = (args: IptablesRuleSetArgs): Step => {
  const desired = parseArgs(iptablesRuleSetSchema, args, 'iptablesRuleSet');
  return defineStep({
    name: 'firewall (iptables)',
    facts: {
      kernel: kernelFirewall,
      host: iptablesHost,
      network: networkInterfaces,
      ufw: ufwState,
      session: sshConnection,
      rulesV4: fileFact(RULES_FILES.v4),
      rulesV6: fileFact(RULES_FILES.v6),
      unit: fileFact(BOOT_UNIT_FILE),
      link: fileFact(BOOT_UNIT_LINK),
    },
    plan: ({ kernel, host, network, ufw, session, rulesV4, rulesV6, unit, link }) =>
      planIptablesRuleSet(desired, {
        kernel,
        host,
        network,
        ufw,
        session,
        files: { [RULES_FILES.v4]: rulesV4, [RULES_FILES.v6]: rulesV6, [BOOT_UNIT_FILE]: unit, [BOOT_UNIT_LINK]: link },
      }),
    touches: { files: [RULES_FILES.v4, RULES_FILES.v6, BOOT_UNIT_FILE, BOOT_UNIT_LINK], firewall: true },
  });
};
