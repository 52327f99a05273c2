// Thin wrapper over node:util parseArgs that turns its errors into UsageErrors and converts
// numeric options with a clear message.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const parseCommandLine = <O extends OptionSpec>(argv: readonly string[], options: O, command: string) => {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, '') : String(error);
    throw new UsageError(`${message} (see 'casfleet ${command} --help')`);
  }
};

/** Parse a whole positive number from a flag value. */
export const positiveInt = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} takes a whole number ≥ 1, got '${value}'`);
  return Number(value);
};
