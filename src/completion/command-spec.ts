// What shell completion knows about one command, built from the option table and subcommands the
// command itself parses with, so a flag or command added later is completed without touching this
// folder. Only the meaning of values is kept here: which flags name a file, a host pattern, a lab.

/** What a value or argument is, and so where its candidates come from. */
export type ValueKind =
  | 'file'
  | 'directory'
  /** Built-in playbook names and playbooks in ./playbooks (from `casfleet __complete`). */
  | 'playbook'
  /** Host and group names of the inventory given with -i, else of the lab (from `casfleet __complete`). */
  | 'hosts'
  /** Names of the labs on this machine. */
  | 'lab'
  /** Run record ids and `last`. */
  | 'run'
  /** Free text: nothing to offer. */
  | 'text';

/** The candidates that come from asking casfleet itself (`casfleet __complete <kind>`). */
export const DYNAMIC_KINDS = ['playbook', 'hosts', 'lab', 'run'] as const satisfies readonly ValueKind[];
export type DynamicKind = (typeof DYNAMIC_KINDS)[number];

export interface FlagSpec {
  readonly long: string;
  readonly short?: string;
  /** Undefined for a switch; what the value is for a flag that takes one. */
  readonly value?: ValueKind;
}

export interface CommandSpec {
  readonly name: string;
  readonly flags: readonly FlagSpec[];
  /** Words the first argument may be (`lab up`, `runs show`); empty when it is free. */
  readonly subcommands: readonly string[];
  /** What the argument after the subcommand (or the first one, without subcommands) is, by subcommand ('' without). */
  readonly arguments: Readonly<Record<string, ValueKind>>;
}

/** An option table as node:util parseArgs takes it (the parts completion needs). */
export type OptionTable = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

// Flags whose values have candidates, by long name (`command name` where one command's flag means
// something else); any other flag that takes a value takes free text.
const FLAG_VALUES: Readonly<Record<string, ValueKind>> = {
  'runs limit': 'text',
  inventory: 'file',
  'private-key': 'file',
  'known-hosts': 'file',
  config: 'file',
  limit: 'hosts',
  canary: 'hosts',
  name: 'lab',
  resume: 'run',
};

// Arguments, by `command` or `command subcommand`.
const ARGUMENTS: Readonly<Record<string, ValueKind>> = {
  apply: 'playbook',
  plan: 'playbook',
  playbooks: 'playbook',
  init: 'directory',
  'lab probe': 'hosts',
  'runs show': 'run',
};

export const commandSpec = (
  name: string,
  commandLine: { readonly options: OptionTable; readonly subcommands: readonly string[] },
): CommandSpec => {
  const flags = Object.entries(commandLine.options).map(
    ([long, option]): FlagSpec => ({
      long,
      ...(option.short ? { short: option.short } : {}),
      ...(option.type === 'string' ? { value: FLAG_VALUES[`${name} ${long}`] ?? FLAG_VALUES[long] ?? 'text' } : {}),
    }),
  );
  const argumentsBySubcommand: Record<string, ValueKind> = {};
  for (const subcommand of ['', ...commandLine.subcommands]) {
    const kind = ARGUMENTS[subcommand ? `${name} ${subcommand}` : name];
    if (kind) argumentsBySubcommand[subcommand] = kind;
  }
  return { name, flags, subcommands: commandLine.subcommands, arguments: argumentsBySubcommand };
};

/** `--inventory` and `-i` of a flag. */
export const flagWords = (flag: FlagSpec): string[] => [`--${flag.long}`, ...(flag.short ? [`-${flag.short}`] : [])];
