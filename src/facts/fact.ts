// A fact reads one piece of host state. It is pure data: a POSIX sh snippet that prints the raw
// state, and a parser from that text to a typed value. The runner batches the snippets of every
// fact a host needs into ONE remote exec (see facts/gather-script.ts), so a fact must never
// depend on another fact's output and must exit 0 when the thing it reads is simply absent.

/**
 * Work shared by every fact of one kind in a gather, run once before the first of them: e.g. one
 * `stat` over the paths of all file facts instead of one process per file. It prints nothing and
 * sets shell variables the facts read; a fact must still give the same output without it (run
 * alone, or when its argument is missing from the prelude's result).
 */
export interface FactPrelude {
  /** Facts with the same key share one run. */
  readonly key: string;
  /** This fact's argument to the shared run (e.g. its path). */
  readonly arg: string;
  /** POSIX sh over the arguments of every fact with this key, in gather order, without duplicates. */
  readonly script: (args: readonly string[]) => string;
}

export interface Fact<T> {
  /** Unique and stable for the same arguments, e.g. `file:/batm/config/gate.properties`. */
  readonly id: string;
  /** POSIX sh, run as the (possibly become) login user; stdout is handed to `parse`. */
  readonly script: string;
  /**
   * 'login': runs as the login user before privilege escalation, in the same exec, for state of the
   * SSH session itself (sudo resets the environment, SSH_CONNECTION included). Such a fact describes
   * the open connection, so it is not read again after a change on that connection.
   */
  readonly scope?: 'login';
  /**
   * true: the snippet runs in the gather's own shell instead of a subshell (one fork less on the
   * host). It must then never `exit` or `return`, must leave the shell's options and IFS as it found
   * them (noglob off, IFS unset), and must set every variable it reads; it may append to PATH.
   */
  readonly inline?: boolean;
  readonly prelude?: FactPrelude;
  /** Pure parser; throws FactError when the output is not what the script prints. */
  parse(output: string): T;
}

export type AnyFact = Fact<unknown>;

/** The facts a step needs, by the name the step's planner uses for them. */
export type FactMap = Readonly<Record<string, AnyFact>>;

/** The parsed values of a FactMap, keyed like the map. */
export type FactValues<M extends FactMap> = { readonly [K in keyof M]: M[K] extends Fact<infer T> ? T : never };
