// The pairing window (`casfleet pair`) as the audit sees it: read from the same facts and by the
// same rules as `pair --status` (src/cas/pairing-window.ts), so both say the same about a host. A
// window whose on-host timer is armed is why 7741 answers while it lasts; one whose timer is gone
// closes only with the next scenario-a run, so it explains nothing.
import { readGate } from '../cas/pairing-window.ts';
import { willFire } from '../steps/ufw-window.ts';
import type { AuditFacts } from './audit-facts.ts';

export interface PairingWindowView {
  /** When the window closes (epoch seconds, the host's clock). */
  readonly until: number;
  /** An armed on-host timer closes it, or nothing does before the next scenario-a run. */
  readonly closing: 'timer' | 'next-scenario-a';
  /** The timer's state as read (armed, lost, …), or `no timer`. */
  readonly timer: string;
}

/** The pairing window open on the host, undefined when none is (or what it needs was not read). */
export const pairingWindowOf = (facts: AuditFacts): PairingWindowView | undefined => {
  if (!facts.ufw.ok || !facts.gateProperties.ok || !facts.timers.ok) return undefined;
  let view: ReturnType<typeof readGate>;
  try {
    view = readGate({ ufw: facts.ufw.value, gate: facts.gateProperties.value, timers: facts.timers.value });
  } catch {
    // Not under Scenario A's managed 7741 rule (ufw off, no managed rule): no window can be open.
    return undefined;
  }
  if (view.kind !== 'window') return undefined;
  return {
    until: view.until,
    closing: willFire(view.timer) ? 'timer' : 'next-scenario-a',
    timer: view.timer?.state ?? 'no timer',
  };
};
