// Helpers shared by the fact parsers. Every fact script ends its output with an `end` line, so a
// truncated or interleaved section (a killed exec, a stray `exit` in another snippet) is caught here
// instead of being parsed as "nothing there".
import { FactError } from '../errors.ts';

export const END_MARKER = 'end';

/** The lines a fact script printed before its `end` marker; throws FactError when the marker is missing. */
export const factLines = (factId: string, output: string): string[] => {
  const lines = output.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[lines.length - 1] !== END_MARKER) {
    throw new FactError(`${factId}: output does not end with the "${END_MARKER}" marker (truncated?)`);
  }
  return lines.slice(0, -1);
};

/** Splits `word rest of line` into its first word and the rest. */
export const splitWord = (line: string): [string, string] => {
  const space = line.indexOf(' ');
  return space === -1 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
};

/** Reads a `key yes|no` flag line; throws FactError when absent or not yes/no. */
export const yesNo = (factId: string, flags: ReadonlyMap<string, string>, key: string): boolean => {
  const value = flags.get(key);
  if (value === 'yes') return true;
  if (value === 'no') return false;
  throw new FactError(`${factId}: expected "${key} yes|no", got ${value === undefined ? 'nothing' : `"${value}"`}`);
};
