// A fact reads one piece of host state. It is pure data: a POSIX sh snippet that prints the raw
// state, and a parser from that text to a typed value. The runner batches the snippets of every
// fact a host needs into ONE remote exec (see facts/gather-script.ts), so a fact must never
// depend on another fact's output and must exit 0 when the thing it reads is simply absent.

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
  /** Pure parser; throws FactError when the output is not what the script prints. */
  parse(output: string): T;
}

export type AnyFact = Fact<unknown>;

/** The facts a step needs, by the name the step's planner uses for them. */
export type FactMap = Readonly<Record<string, AnyFact>>;

/** The parsed values of a FactMap, keyed like the map. */
export type FactValues<M extends FactMap> = { readonly [K in keyof M]: M[K] extends Fact<infer T> ? T : never };
