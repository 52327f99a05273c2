// Runs casfleet's remote scripts on one host: the fact-gathering exec and the apply execs, with
// privilege escalation and timeouts applied uniformly. It speaks the gather protocol so the host
// pipeline deals only in typed facts and changes.

import { type Become, becomeStdin, type RemoteCommand, sudoRefusal, withBecome, withoutBecomeStart } from '../command/shell.ts';
import { RemoteCommandError, SudoError } from '../errors.ts';
import { hostWorkTurn } from '../event-loop-turn.ts';
import type { AnyFact } from '../facts/fact.ts';
import { APPLY_STATUS_MARK, buildGatherScript, type FactOutcome, parseGatherOutput } from '../facts/gather-script.ts';
import type { ChangeGuard } from '../host-timer/timer-commands.ts';
import type { Connection, ExecResult } from '../ssh/connection.ts';

export interface HostSessionOptions {
  readonly become: Become;
  readonly gatherTimeoutMs: number;
  readonly applyTimeoutMs: number;
}

export interface ApplyResult {
  /** Exit status of the change's own script (null when it could not be determined). */
  readonly status: number | null;
  /** What the change printed (stdout and stderr), for error messages. */
  readonly output: string;
  /** Facts re-read right after the change, in the same exec. */
  readonly facts: ReadonlyMap<string, FactOutcome>;
}

export class HostSession {
  readonly #connection: Connection;
  readonly #options: HostSessionOptions;
  /** Shell around every change once a transaction is open (see guardChanges). */
  #changeGuard: ChangeGuard = { enter: '', leave: '' };

  constructor(connection: Connection, options: HostSessionOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  get host(): string {
    return this.#connection.host;
  }

  /**
   * Read several facts in one exec. Login-scope facts (the SSH session's own state) run first, as
   * the login user; the others after privilege escalation, so sudo's reset environment cannot hide
   * what only the session knows.
   */
  async gather(facts: readonly AnyFact[]): Promise<ReadonlyMap<string, FactOutcome>> {
    if (facts.length === 0) return new Map();
    const login = facts.filter((fact) => fact.scope === 'login');
    const rest = facts.filter((fact) => fact.scope !== 'login');
    const elevated = rest.length > 0 ? withBecome({ script: buildGatherScript(rest), display: '' }, this.#options.become).script : '';
    const script = [...(login.length > 0 ? [buildGatherScript(login)] : []), ...(elevated ? [elevated] : [])].join('\n');
    const result = await this.#execWrapped(script, this.#options.gatherTimeoutMs, elevated !== '');
    // Parsing waits its turn behind other hosts' (event-loop-turn.ts); planning takes one of its own (runHost).
    await hostWorkTurn();
    if (result.code === null) {
      throw new RemoteCommandError(`gathering facts on ${this.host}: the channel closed without an exit status`, null, result.stderr);
    }
    return parseGatherOutput(result.stdout, facts, result.stderr);
  }

  /**
   * From now on, each change first runs `guard.enter` on the host, in its own subshell: a guard
   * that exits stops the change, whose exit status is the guard's (the transaction's: its dead-man
   * not fired). `guard.leave` runs after the subshell, however it ended.
   */
  guardChanges(guard: ChangeGuard): void {
    this.#changeGuard = guard;
  }

  /** Run one change, then re-read `refetch` facts in the same exec (login-scope facts keep their value). */
  async apply(command: RemoteCommand, stdin: string | undefined, refetch: readonly AnyFact[]): Promise<ApplyResult> {
    const reread = refetch.filter((fact) => fact.scope !== 'login');
    const { enter, leave } = this.#changeGuard;
    const script = `( ${enter}${command.script}\n)\ncasfleet_status=$?\n${leave}printf '\\n%s %s\\n' '${APPLY_STATUS_MARK}' "$casfleet_status"\n${buildGatherScript(reread)}`;
    const result = await this.#run({ script, display: command.display }, this.#options.applyTimeoutMs, stdin);
    await hostWorkTurn();
    const markAt = result.stdout.lastIndexOf(`\n${APPLY_STATUS_MARK} `);
    if (markAt < 0) {
      return { status: null, output: joinOutput(result.stdout, result.stderr), facts: parseGatherOutput('', reread, result.stderr) };
    }
    const status = Number.parseInt(result.stdout.slice(markAt + APPLY_STATUS_MARK.length + 2), 10);
    return {
      status: Number.isNaN(status) ? null : status,
      output: joinOutput(result.stdout.slice(0, markAt), result.stderr),
      facts: parseGatherOutput(result.stdout.slice(markAt), reread, result.stderr),
    };
  }

  /** Run one command as is (with become and the apply timeout): its exit code, stdout and stderr apart. */
  async exec(command: RemoteCommand): Promise<ExecResult> {
    return this.#run(command, this.#options.applyTimeoutMs);
  }

  async #run(command: RemoteCommand, timeoutMs: number, stdin?: string): Promise<ExecResult> {
    return this.#execWrapped(withBecome(command, this.#options.become).script, timeoutMs, true, stdin);
  }

  /** Run a script whose privileged part is already wrapped by withBecome (`elevated`: it has one). */
  async #execWrapped(script: string, timeoutMs: number, elevated: boolean, stdin?: string): Promise<ExecResult> {
    const { become } = this.#options;
    const input = elevated ? becomeStdin(become, stdin) : stdin;
    const result = await this.#connection.exec(script, { timeoutMs, ...(input === undefined ? {} : { stdin: input }) });
    // sudo refused before running anything: say why, in place of whatever the command would have said.
    const refusal = result.code === 0 || !elevated ? undefined : sudoRefusal(become, result.stderr);
    if (refusal !== undefined)
      throw new SudoError(`become on ${this.host}: ${refusal}; nothing was run`, result.code, '', { host: this.host });
    return elevated ? { ...result, stderr: withoutBecomeStart(result.stderr) } : result;
  }
}

const joinOutput = (stdout: string, stderr: string): string => [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
