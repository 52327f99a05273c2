// The break half of a switch from ufw to the iptables backend: ufw stops and is no longer loaded at
// boot (`ufw disable`: it removes only its own chains and sets the built-in policies back to ACCEPT,
// so the managed chain, hand rules and the nat table stay). The command first checks on the host
// that CASFLEET-INPUT is loaded (iptables-takeover.ts): it never leaves a host without a firewall.
import { sh } from '../command/shell.ts';
import { UFW_FILES, type UfwState, ufwState } from '../facts/ufw.ts';
import { MANAGED_CHAIN } from './iptables-chain.ts';
import { managedChainLoadedGuard } from './iptables-takeover.ts';
import { defineStep, noChange, type Step, type StepPlan } from './step.ts';

/** Plans `ufw disable` from the ufw fact (pure). */
export const planUfwDisabled = (ufw: UfwState): StepPlan => {
  if (!ufw.installed) return noChange('ufw is not installed');
  if (!ufw.enabled) return noChange('ufw is disabled (ENABLED=no in /etc/ufw/ufw.conf), so it does not load at boot');
  return {
    changes: [
      {
        summary: `- disable ufw (${MANAGED_CHAIN} filters instead; ufw no longer loads at boot)`,
        command: sh`${managedChainLoadedGuard()}
ufw disable`,
      },
    ],
    diff: { before: 'ufw: enabled', after: 'ufw: disabled' },
  };
};

/** ufw disabled, once the iptables backend has taken over (see the module comment). */
export const ufwDisabled = (): Step =>
  defineStep({
    name: 'ufw disabled (iptables took over)',
    facts: { ufw: ufwState },
    plan: ({ ufw }) => planUfwDisabled(ufw),
    touches: { files: UFW_FILES, firewall: true },
  });
