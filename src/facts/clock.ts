// The host's own clock, in epoch seconds. Deadlines casfleet leaves on a host (when a pairing window
// closes) are computed on the host's clock, because the host's timer counts on it: the machine
// running casfleet may be minutes off, or in another time zone.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines } from './fact-output.ts';

const FACT_ID = 'host.clock';

/** Parses the output of the clock fact script. */
export const parseHostClock = (output: string): number => {
  const lines = factLines(FACT_ID, output);
  const [line = ''] = lines;
  if (lines.length !== 1 || !/^\d{9,11}$/.test(line)) throw new FactError(`${FACT_ID}: expected epoch seconds, got "${lines.join(' | ')}"`);
  return Number(line);
};

/** Seconds since the epoch on the host. */
export const hostClock: Fact<number> = { id: FACT_ID, script: 'date +%s\necho end', parse: parseHostClock };
