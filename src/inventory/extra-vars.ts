// Extra vars from the command line: `-e key=value` and `-e @vars.yaml`. Values are typed like INI
// values (flow-value.ts): `-e pairing=true` is a boolean, `-e subnets=[10.8.0.0/24,10.9.0.0/24]`
// a list, `-e subnets=10.8.0.0/24` a string. (Ansible keeps key=value extra vars as strings;
// casfleet types them so that playbook vars validate the same whichever way they are given.)

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type SourcePosition, UsageError, ValidationError } from '../errors.ts';
import { checkVar } from './connection-vars.ts';
import { displayPath } from './display-path.ts';
import { parseFlowValue } from './flow-value.ts';
import { parseVarsFile } from './vars-file.ts';

export interface ExtraVar {
  readonly key: string;
  readonly value: unknown;
}

// Vars are used as identifiers by playbooks; a name like `pairing-window` could never be read.
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `key=value` → typed value; `key=` is the empty string. Throws UsageError for anything else. The
 * value may be a secret (a password typed on the command line), so messages name only the key.
 */
export const parseExtraVar = (arg: string): ExtraVar => {
  const equals = arg.indexOf('=');
  if (equals < 0)
    throw new UsageError(
      '-e expects key=value (or @file to read vars from a YAML/JSON file); the argument given has no "=" (not shown: it may be a secret)',
    );
  const key = arg.slice(0, equals).trim();
  if (!VAR_NAME.test(key))
    throw new UsageError(`-e '${key}=…': '${key}' is not a variable name (letters, digits and _, not starting with a digit)`);
  const value = parseFlowValue(arg.slice(equals + 1));
  const problem = checkVar(key, value, 'host');
  // The connection-var messages end in "(got <value>)": dropped here, for the same reason.
  if (problem !== undefined) throw new UsageError(`-e ${key}=…: ${key} ${problem.replace(/ \(got .*\)$/s, '')}`);
  return { key, value };
};

export interface LoadedVars {
  readonly vars: Readonly<Record<string, unknown>>;
  /** Where each var was written (file, line, column of its value). */
  readonly origins: Readonly<Record<string, SourcePosition>>;
}

/** A YAML or JSON file of vars, for `-e @file`. Problems are thrown as one ValidationError. */
export const loadVarsFile = async (path: string): Promise<LoadedVars> => {
  const absolute = resolve(path);
  const shown = displayPath(absolute);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `vars file not found: ${shown}` : `cannot read vars file ${shown}: ${code ?? String(error)}`, {
      cause: error,
    });
  }
  const parsed = parseVarsFile(text, shown);
  if (parsed.issues.length > 0) {
    throw new ValidationError(
      `vars file ${shown} has ${parsed.issues.length} problem${parsed.issues.length === 1 ? '' : 's'}:`,
      parsed.issues,
    );
  }
  const vars: Record<string, unknown> = {};
  const origins: Record<string, SourcePosition> = {};
  for (const [key, definition] of parsed.vars) {
    vars[key] = definition.value;
    origins[key] = definition.position;
  }
  return { vars, origins };
};
