// The audit's view of the live tables, from the kernel-truth analysis (steps/kernel-truth.ts): are
// ufw's running chains the rules it lists, do its files hold those rules (steps/ufw-rule-lines.ts), what is INPUT's policy, which rules outside the firewall tool
// accept CAS ports, and which CAS ports a DNAT forwards past INPUT (Docker-published ports).
// casfleet's own iptables chain is never foreign: on an iptables host it is the backend, on a ufw
// host a leftover the next apply removes.
import { CAS_PORTS } from '../cas/firewall-policy.ts';
import type { KernelFirewall } from '../facts/kernel-firewall.ts';
import type { UfwState } from '../facts/ufw.ts';
import { MANAGED_CHAIN } from '../steps/iptables-chain.ts';
import { analyseKernel } from '../steps/kernel-truth.ts';
import { formatPorts } from '../steps/port-ranges.ts';
import { ruleLinesMismatches, withRewrittenRuleLines } from '../steps/ufw-rule-lines.ts';
import type { KernelView } from './audit-schema.ts';

const family = (name: string): string => (name === 'v6' ? '[v6] ' : '');

/** `iptablesBackend`: casfleet's managed chain is the host's firewall. */
export const kernelView = (ufw: UfwState, kernel: KernelFirewall, iptablesBackend = false): KernelView => {
  const own = iptablesBackend ? { managedChain: MANAGED_CHAIN } : { ownChains: [MANAGED_CHAIN] };
  // Judged against what ufw lists (and casfleet would rewrite a mismatched file to), not the edited lines.
  const mismatches = ruleLinesMismatches(ufw);
  const truth = analyseKernel({ ufw: withRewrittenRuleLines(ufw, mismatches), kernel, protectedPorts: CAS_PORTS, ...own });
  const unreadable = Object.entries(truth.unreadable).map(([name, error]) => `${family(name)}${error}`);
  const drift = [...truth.drift, ...truth.ufwUnhooked.map((name) => `${family(name)}INPUT no longer jumps to ufw's chains`)];
  const known = ufw.enabled && unreadable.length === 0;
  return {
    loaded: known ? truth.ufwLoaded : null,
    inSync: known ? truth.ufwLoaded && drift.length === 0 : null,
    inputPolicy: truth.inputPolicy.v4 ?? null,
    drift,
    ruleFiles: mismatches.map(({ path, detail }) => `${path} (${detail})`),
    unreadable,
    foreignRules: truth.foreignAccepts.map((accept) => ({
      rule: `${family(accept.rule.family)}${accept.rule.text}`,
      ports: accept.ports === 'all' ? ['all'] : formatPorts(accept.ports).split(','),
    })),
    // Only what really bypasses INPUT: the kernel forwards and FORWARD accepts the translated connection.
    forwarded: truth.forwardedPorts
      .filter((port) => port.forwarding && port.acceptedBy !== undefined)
      .map((port) => ({ port: formatPorts(port.ports), rule: `${family(port.family)}${port.dnat.text} (FORWARD: ${port.acceptedBy})` })),
  };
};
