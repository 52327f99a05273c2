// The iptables backend as the audit sees it: casfleet's managed chain (steps/iptables-chain.ts)
// loaded and jumped to from INPUT, whether it survives a reboot (the boot unit enabled and the rule
// files equal to the running chain, judged with the step's own renderer, so "persisted" means what
// the step would not rewrite), and what the chain decides per port, evaluated first-match as the
// lock-out guard does (a rule leaving the decision open falls through to INPUT's policy).
import type { FileState } from '../facts/file.ts';
import type { KernelFirewall } from '../facts/kernel-firewall.ts';
import { RULES_FILES, renderRulesFile } from '../steps/iptables-boot.ts';
import { type Family, MANAGED_CHAIN } from '../steps/iptables-chain.ts';
import { destinationPorts, matchesTcp, onlyExistingConnections, option, parseSavedRule } from '../steps/iptables-rule.ts';
import { linkOk, runningChain } from '../steps/iptables-rules.ts';
import { formatPorts } from '../steps/port-ranges.ts';
import type { GuardRule } from '../steps/ssh-guard.ts';
import type { AuditFacts, Read } from './audit-facts.ts';
import type { FirewallView, RuleVerdict } from './audit-schema.ts';
import { portVerdict } from './ufw-verdict.ts';

export interface IptablesView {
  /** The managed chain's lines per family whose INPUT jumps to it. */
  readonly chains: Readonly<Partial<Record<Family, readonly string[]>>>;
  /** INPUT's IPv4 policy: what traffic the chain leaves undecided meets. */
  readonly inputPolicy: string | undefined;
  /** Unit enabled and rule files equal to the running chains; null when a boot file could not be read. */
  readonly persistence: boolean | null;
  /** What is missing or stale when persistence is false. */
  readonly gaps: readonly string[];
}

/** The iptables backend when IPv4's INPUT jumps to casfleet's managed chain; undefined otherwise. */
export const iptablesViewOf = (facts: AuditFacts): IptablesView | undefined => {
  if (!facts.kernel.ok) return undefined;
  const kernel: KernelFirewall = facts.kernel.value;
  const chains: Partial<Record<Family, readonly string[]>> = {};
  for (const family of ['v4', 'v6'] as const) {
    const state = kernel[family];
    if (!state?.ok) continue;
    const running = runningChain(state.dump.tables.filter);
    if (running.lines !== undefined && running.jumps > 0) chains[family] = running.lines;
  }
  if (!chains.v4) return undefined;
  const v4 = kernel.v4;
  const inputPolicy = v4?.ok ? v4.dump.tables.filter?.chains.INPUT : undefined;
  const gaps = persistenceGaps(facts, chains);
  return { chains, inputPolicy, persistence: gaps === null ? null : gaps.length === 0, gaps: gaps ?? [] };
};

/**
 * Why the running chains would not come back after a reboot: the unit not enabled, a rule file
 * missing or not what the step writes for the running chain. Null when a boot file could not be read.
 */
const persistenceGaps = (facts: AuditFacts, chains: IptablesView['chains']): string[] | null => {
  const files: Readonly<Record<Family, Read<FileState>>> = { v4: facts.bootRulesV4, v6: facts.bootRulesV6 };
  const families = Object.keys(chains) as Family[];
  if (!facts.bootLink.ok || families.some((family) => !files[family].ok)) return null;
  const gaps = linkOk(facts.bootLink.value) ? [] : ['casfleet-iptables.service is not enabled'];
  for (const family of families) {
    const file = files[family];
    if (!file.ok) continue;
    if (!file.value.exists) gaps.push(`${RULES_FILES[family]} is missing`);
    else if (file.value.content !== renderRulesFile(family, chains[family] ?? []))
      gaps.push(`${RULES_FILES[family]} differs from the running chain`);
  }
  return gaps;
};

const VERDICT_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT']);

// One chain line as a guard rule. Lines that never decide a new connection (established/related, a
// jump elsewhere, a RETURN) and lines with negated matches (casfleet writes none) are left out.
const guardRule = (line: string): GuardRule | undefined => {
  const rule = parseSavedRule('v4', 'filter', MANAGED_CHAIN, line);
  if (!rule || !VERDICT_TARGETS.has(rule.target) || onlyExistingConnections(rule)) return undefined;
  const [source, destination, iface] = ['source', 'destination', 'in-interface'].map((name) => option(rule, name));
  if ([source, destination, iface].some((match) => match?.negated)) return undefined;
  return {
    allow: rule.target === 'ACCEPT',
    tcp: matchesTcp(rule),
    ports: formatPorts(destinationPorts(rule)),
    source: source?.values[0] ?? '',
    destination: destination?.values[0] ?? '',
    sourcePortBound: false,
    interfaceIn: iface?.values[0] ?? '',
    text: rule.text,
    managed: true,
  };
};

const fallthrough = (view: IptablesView): RuleVerdict['anyone'] =>
  view.inputPolicy === 'ACCEPT' || view.inputPolicy === undefined ? 'allow' : 'block';

/** The managed chain's IPv4 verdict for `port`/tcp arriving on `iface` for `destination`. */
export const chainVerdict = (view: IptablesView, iface: string, port: number, destination?: string): RuleVerdict =>
  portVerdict(
    (view.chains.v4 ?? []).flatMap((line) => guardRule(line) ?? []),
    port,
    iface,
    destination,
    fallthrough(view),
  );

/** The backend, on and with its default: the chain's final drop (or reject) of everything, else INPUT's policy. */
export const iptablesFirewall = (view: IptablesView, kernel: FirewallView['kernel']): FirewallView => {
  const last = guardRule(view.chains.v4?.at(-1) ?? '');
  const catchAll = last && last.source === '' && last.destination === '' && last.ports === '1:65535' && !last.allow;
  const defaultIncoming = catchAll
    ? last.text.includes('-j REJECT')
      ? 'reject'
      : 'deny'
    : fallthrough(view) === 'allow'
      ? 'allow'
      : 'deny';
  return { backend: 'iptables', enabled: true, defaultIncoming, persistence: view.persistence, kernel };
};
