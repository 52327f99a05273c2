// Thin wrapper over node:util parseArgs that turns its errors into UsageErrors and converts
// numeric options with a clear message. It is also where `casfleet completion` learns what each
// command accepts: the option table a command parses with is the one completion offers.

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What a command line of one command may hold: its flags, and the words its first argument may be. */
export interface CommandLineSpec {
  readonly options: OptionSpec;
  readonly subcommands: readonly string[];
}

// While a command is described, its parseCommandLine call hands its table back instead of parsing;
// thrown, so the command itself goes no further.
class DescribedCommandLine {
  constructor(readonly spec: CommandLineSpec) {}
}

let describing = false;

/**
 * Parse a command's arguments against its option table. `subcommands` are the words its first
 * positional may be (`lab up|status|…`); the command checks them itself, this only declares them.
 */
export const parseCommandLine = <O extends OptionSpec>(
  argv: readonly string[],
  options: O,
  command: string,
  subcommands: readonly string[] = [],
) => {
  if (describing) throw new DescribedCommandLine({ options, subcommands });
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, '') : String(error);
    throw new UsageError(`${message} (see 'casfleet ${command} --help')`);
  }
};

/** The option table and subcommands a command parses with, read by starting it in describe mode. */
export const describeCommandLine = async (command: (argv: readonly string[]) => Promise<number>): Promise<CommandLineSpec> => {
  describing = true;
  try {
    await command([]);
  } catch (error) {
    if (error instanceof DescribedCommandLine) return error.spec;
    throw error;
  } finally {
    describing = false;
  }
  throw new Error('the command returned without parsing its command line');
};

/** Refuses arguments left after a command's own positional ones. */
export const refuseExtraArguments = (rest: readonly string[]): void => {
  if (rest.length > 0) throw new UsageError(`unexpected argument${rest.length > 1 ? 's' : ''}: ${rest.join(' ')}`);
};

/** The one positional argument a command needs (`missing` says what it is and how to give it). */
export const onlyPositional = (positionals: readonly string[], missing: string): string => {
  const [first, ...rest] = positionals;
  if (!first) throw new UsageError(missing);
  refuseExtraArguments(rest);
  return first;
};

/** For commands that take a selection, not positional arguments: a stray word is probably a -l pattern. */
export const refuseSelectionArguments = (positionals: readonly string[]): void => {
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals.join(' ')} (did you mean -l ${positionals[0]}?)`);
};

/** Parse a whole positive number from a flag value. */
export const positiveInt = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} takes a whole number ≥ 1, got '${value}'`);
  return Number(value);
};
