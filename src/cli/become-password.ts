// The sudo password for become: ansible_become_password per host (from the inventory), else one
// password for the run, asked once without echo (-K/--ask-become-pass) or read from
// CASFLEET_BECOME_PASSWORD. It travels to sudo on stdin only (command/shell.ts withBecome).

import { UsageError } from '../errors.ts';
import type { HostConnection } from '../inventory/types.ts';
import { canAsk } from './confirm.ts';

export const BECOME_PASSWORD_ENV = 'CASFLEET_BECOME_PASSWORD';

export interface BecomeFlags {
  readonly 'ask-become-pass'?: boolean | undefined;
}

export const BECOME_OPTIONS = {
  'ask-become-pass': { type: 'boolean', short: 'K' },
} as const;

export const BECOME_HELP = `  -K, --ask-become-pass   ask once for the sudo password of become hosts (or set ${BECOME_PASSWORD_ENV})`;

/** Reads a line from the terminal without echoing it; Ctrl-C aborts. */
export const askSecret = (prompt: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    let typed = '';
    const done = (error?: Error): void => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          done();
          return;
        }
        if (char === '\u0003') {
          done(new UsageError('interrupted while asking for the become password'));
          return;
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.on('data', onData);
  });

/** The run-wide password, if any: -K asks (only when some host becomes without its own password). */
export const becomePassword = async (flags: BecomeFlags, connections: readonly HostConnection[]): Promise<string | undefined> => {
  const fromEnv = process.env[BECOME_PASSWORD_ENV];
  if (!flags['ask-become-pass']) return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  if (!connections.some((connection) => connection.become && connection.becomePassword === undefined)) return undefined;
  if (!canAsk()) throw new UsageError(`-K/--ask-become-pass needs a terminal to ask on; without one set ${BECOME_PASSWORD_ENV}`);
  return askSecret('BECOME password: ');
};
