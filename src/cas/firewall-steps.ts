// The firewall steps of the CAS playbooks, for either backend of GB's guide ([C] FW): Option 1 (ufw,
// preferred) or Option 2 (raw iptables, which casfleet makes persistent). Both apply the same policy
// (firewall-policy.ts), each in its own order. A host switches backend make-before-break: the new
// backend loads and filters first, and only then does the step after it stop the old one (each stop
// re-checks on the host that the new backend is loaded). On a host that never used the other
// backend, that second step has nothing to do.

import { iptablesRemoved } from '../steps/iptables-removed.ts';
import { iptablesRuleSet } from '../steps/iptables-rules.ts';
import type { Step } from '../steps/step.ts';
import { ufwDisabled } from '../steps/ufw-disabled.ts';
import { DEFAULT_ROUTE } from '../steps/ufw-managed-rule.ts';
import { ufwRuleSet } from '../steps/ufw-rules.ts';
import type { CommonVars } from './cas-vars.ts';
import { CAS_PORTS, type PolicyRule } from './firewall-policy.ts';

export interface FirewallPolicy {
  /** The policy in the UFW order. */
  readonly ufw: readonly PolicyRule[];
  /** The same policy in GB's iptables order. */
  readonly iptables: readonly PolicyRule[];
}

/** The steps that put the host's firewall in the policy's state with the backend `vars.firewall` names. */
export const firewallSteps = (vars: CommonVars, policy: FirewallPolicy): Step[] =>
  vars.firewall === 'iptables'
    ? [
        iptablesRuleSet({
          rules: [...policy.iptables],
          publicInterface: vars.publicInterface ?? DEFAULT_ROUTE,
          sshPort: vars.sshPort,
          protectedPorts: [...CAS_PORTS],
        }),
        ufwDisabled(),
      ]
    : [
        ufwRuleSet({
          defaultIncoming: 'deny',
          rules: [...policy.ufw],
          enabled: true,
          sshPort: vars.sshPort,
          protectedPorts: [...CAS_PORTS],
        }),
        iptablesRemoved(),
      ];
