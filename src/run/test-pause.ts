// A deterministic hook for tests that must act at an exact point of a run (drop new logins between
// the change and its confirmation, kill casfleet there) instead of racing it with sleeps.
//
//   CASFLEET_TEST_PAUSE=<phase>[,<phase>…]:<marker file>
//
// When a host reaches a named phase, casfleet appends `<host> <pid>` to the marker file (the pid of
// the process holding the host's connection, which a test may kill) and waits until the file is
// removed (or forever, for a test that kills it there); at a later named phase it appends and
// waits again. Without the variable every call returns at once. Each phase is reached at most once
// per host and run:
//   after-facts           facts gathered, nothing changed
//   change-sent           the first change command ran on the host, its step not yet reported
//   after-change          the first changing step applied
//   between-changes       one change command applied, the next (a step's or a handler's) not yet sent
//   after-firewall-load   the first step that loads the filter tables applied
//   before-confirm        steps and handlers done, the confirming login not yet opened

import { appendFileSync, existsSync } from 'node:fs';

export const PAUSE_PHASES = [
  'after-facts',
  'change-sent',
  'after-change',
  'between-changes',
  'after-firewall-load',
  'before-confirm',
] as const;
export type PausePhase = (typeof PAUSE_PHASES)[number];
const POLL_MS = 50;

/** The phases and marker file the variable asks for, or undefined (also for a malformed value). */
export const parsePauseSetting = (
  value: string | undefined,
): { readonly phases: readonly PausePhase[]; readonly marker: string } | undefined => {
  const separator = value?.indexOf(':') ?? -1;
  if (!value || separator < 0) return undefined;
  const phases = value.slice(0, separator).split(',') as PausePhase[];
  const marker = value.slice(separator + 1);
  return phases.every((phase) => PAUSE_PHASES.includes(phase)) && marker !== '' ? { phases, marker } : undefined;
};

const setting = parsePauseSetting(process.env.CASFLEET_TEST_PAUSE);

export const pauseAt = async (phase: PausePhase, host: string): Promise<void> => {
  if (!setting?.phases.includes(phase)) return;
  appendFileSync(setting.marker, `${host} ${process.pid}\n`);
  while (existsSync(setting.marker)) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
};
