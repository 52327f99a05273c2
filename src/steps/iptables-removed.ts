// The break half of a switch from the iptables backend back to ufw: casfleet's chain and its INPUT
// jump leave the kernel (one iptables-restore --noflush per family) and casfleet-iptables.service is
// disabled, so two firewalls never load at boot. The rule files stay in /etc/iptables (unused; the
// next switch to iptables rewrites them). The command first checks on the host that ufw is loaded
// (iptables-takeover.ts), so the host is never left without a firewall; hand rules in INPUT and the
// nat table are not touched.
import { joinCommands, type RemoteCommand, raw, sh } from '../command/shell.ts';
import { StepPlanError } from '../errors.ts';
import { type FileState, fileFact } from '../facts/file.ts';
import { type IptablesHost, iptablesHost } from '../facts/iptables-host.ts';
import { type KernelFirewall, kernelFirewall } from '../facts/kernel-firewall.ts';
import { BOOT_UNIT, BOOT_UNIT_LINK } from './iptables-boot.ts';
import { type Family, JUMP_RULE, JUMP_SPEC, MANAGED_CHAIN } from './iptables-chain.ts';
import { managedFamilies } from './iptables-rules.ts';
import { ufwLoadedGuard } from './iptables-takeover.ts';
import { type Change, defineStep, NO_COMMAND, noChange, type Step, type StepPlan } from './step.ts';

const RESTORE: Readonly<Record<Family, 'iptables-restore' | 'ip6tables-restore'>> = { v4: 'iptables-restore', v6: 'ip6tables-restore' };

/** Plans the removal from the kernel, host and link facts (pure). */
export const planIptablesRemoved = (kernel: KernelFirewall, host: IptablesHost, link: FileState): StepPlan => {
  const live = managedFamilies(kernel);
  const summaries: string[] = [];
  const present: string[] = [];
  const loads: RemoteCommand[] = [];
  for (const [family, filter] of Object.entries(live) as [Family, (typeof live)[Family]][]) {
    const input = (filter?.rules ?? []).filter((rule) => rule.chain === 'INPUT');
    const jumps = input.filter((rule) => rule.text === JUMP_RULE).length;
    const foreign = input.find((rule) => rule.text !== JUMP_RULE && / -[jg] CASFLEET-INPUT( |$)/.test(rule.text));
    if (foreign) throw new StepPlanError(`[${family}] "${foreign.text}" jumps to ${MANAGED_CHAIN} but is not casfleet's: delete it first`);
    const chain = filter?.chains[MANAGED_CHAIN] !== undefined;
    if (!chain && jumps === 0) continue;
    const count = (filter?.rules ?? []).filter((rule) => rule.chain === MANAGED_CHAIN).length;
    const parts = `${chain ? `chain ${MANAGED_CHAIN} (${count} rules)` : `no ${MANAGED_CHAIN} chain`}, ${jumps === 1 ? 'its INPUT jump' : `${jumps} INPUT jumps`}`;
    present.push(`[${family}] ${parts}`);
    summaries.push(`- [${family}] ${parts}: ufw filters instead`);
    const restore = host.tools[RESTORE[family]];
    if (!restore) throw new StepPlanError(`${RESTORE[family]} not found on this host: cannot remove ${MANAGED_CHAIN}`);
    const lines = [
      '*filter',
      ...Array.from({ length: jumps }, () => `-D INPUT ${JUMP_SPEC}`),
      ...(chain ? [`-F ${MANAGED_CHAIN}`, `-X ${MANAGED_CHAIN}`] : []),
      'COMMIT',
      '',
    ];
    loads.push(sh`${restore} -w 10 --noflush <<'CASFLEET_RULES'
${raw(lines.join('\n'))}CASFLEET_RULES`);
  }
  const enabled = link.exists;
  if (enabled) {
    present.unshift(`${BOOT_UNIT}: enabled`);
    summaries.unshift(`- disable ${BOOT_UNIT} at boot (/etc/iptables/rules.v4 and rules.v6 stay, unused)`);
  }
  if (summaries.length === 0) return noChange(`${MANAGED_CHAIN} is not loaded and ${BOOT_UNIT} is not enabled`);
  const disable = enabled
    ? sh`
rm -f -- ${BOOT_UNIT_LINK}${host.systemd ? raw('\nsystemctl daemon-reload') : raw('')}`
    : raw('');
  const command = sh`set -e
${ufwLoadedGuard()}${disable}
${joinCommands(loads)}`;
  const changes: Change[] = summaries.map((summary, i) => ({ summary, command: i === 0 ? command : NO_COMMAND }));
  return { changes, diff: { before: present.join('\n'), after: `(no ${MANAGED_CHAIN}, ${BOOT_UNIT} not enabled)` } };
};

/** The iptables backend removed once ufw has taken over (see the module comment). */
export const iptablesRemoved = (): Step =>
  defineStep({
    name: 'iptables backend removed (ufw took over)',
    facts: { kernel: kernelFirewall, host: iptablesHost, link: fileFact(BOOT_UNIT_LINK) },
    plan: ({ kernel, host, link }) => planIptablesRemoved(kernel, host, link),
    touches: { files: [BOOT_UNIT_LINK], firewall: true },
  });
