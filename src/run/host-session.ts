// Runs casfleet's remote scripts on one host: the fact-gathering exec and the apply execs, with
// privilege escalation and timeouts applied uniformly. It speaks the gather protocol so the host
// pipeline deals only in typed facts and changes.

import {
  type Become,
  becomeStdin,
  type RemoteCommand,
  sudoAskedAgain,
  sudoRefusal,
  withBecome,
  withoutBecomeStart,
} from '../command/shell.ts';
import { type ChangeStdin, overStdin } from '../command/stdin-parts.ts';
import { CasfleetError, RemoteCommandError, SudoError } from '../errors.ts';
import { hostWorkTurn } from '../event-loop-turn.ts';
import type { AnyFact } from '../facts/fact.ts';
import { APPLY_STATUS_MARK, buildGatherScript, type FactOutcome, parseGatherOutput } from '../facts/gather-script.ts';
import type { ChangeGuard } from '../host-timer/timer-commands.ts';
import { seconds } from '../ssh/connect-errors.ts';
import type { Connection, ExecHold, ExecResult } from '../ssh/connection.ts';
import { ExecChain, HeldExec, HOLD_MARK, resultAndNextHold, sinceLastHold, thenChain, withInput } from './exec-chain.ts';

/**
 * Facts read by an exec that still waits: `answer` runs the follow-up of that name on the host in
 * the same exec (or none) and resolves with what the follow-up did. Every held gather must be
 * answered; until then the host's script waits (at most the gather timeout, then it reads EOF).
 */
export interface HeldGather<Word extends string> {
  readonly facts: ReadonlyMap<string, FactOutcome>;
  /** The first answer decides; a later one resolves as the first did. */
  answer(word?: Word): Promise<ExecResult>;
}

/**
 * The elevated tail of a held gather: say the facts are read, read one line, run the follow-up it
 * names (`chainAfter`'s then keeps the exec for the host's changes: exec-chain.ts). EOF (casfleet or
 * the connection gone), a line cut short, an empty line or an unknown word runs nothing.
 */
const holdScript = (followUps: Readonly<Record<string, RemoteCommand>>, chainAfter?: string): string => {
  const cases = Object.entries(followUps).map(([word, command]) =>
    word === chainAfter ? `${word})\n${thenChain(command.script)} ;;` : `${word}) {\n${command.script}\n} ;;`,
  );
  return `printf '\\n%s\\n' '${HOLD_MARK}'; printf '\\n%s\\n' '${HOLD_MARK}' >&2\ncasfleet_next=\nIFS= read -r casfleet_next || casfleet_next=\ncase $casfleet_next in\n${cases.join('\n')}\nesac`;
};

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
  /** The gather's exec, kept open for the changes (gatherHeld's `chainAfter`). */
  #chain: ExecChain | undefined;

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
    const result = await this.#execWrapped(this.#gatherScript(facts), this.#options.gatherTimeoutMs, !facts.every(isLogin));
    // Parsing waits its turn behind other hosts' (event-loop-turn.ts); planning takes one of its own (runHost).
    await hostWorkTurn();
    return this.#parseGather(result, facts);
  }

  /**
   * Read several facts as `gather` does, and keep the exec open for one follow-up (run with become)
   * that casfleet picks once it has planned from them: the snapshot and dead-man of a transaction
   * when the host changes, the disarm of a confirmed one. One session less on the host than a
   * gather and a second exec; if casfleet or the connection dies before answering, the host runs
   * no follow-up, as it would have run no second exec. After `chainAfter`'s follow-up succeeded,
   * the exec stays open for this session's changes (`apply`), until `endChain`.
   */
  async gatherHeld<Word extends string>(
    facts: readonly AnyFact[],
    followUps: Readonly<Record<Word, RemoteCommand>>,
    chainAfter?: Word,
  ): Promise<HeldGather<Word>> {
    const script = this.#gatherScript(facts, holdScript(followUps, chainAfter));
    const exec = new HeldExec((reached) =>
      this.#execWrapped(script, this.#options.gatherTimeoutMs, true, undefined, {
        marker: HOLD_MARK,
        followUpTimeoutMs: this.#options.applyTimeoutMs,
        // A rejected password: sudo would wait for another line, the answer never comes, and the
        // gather must fail as it always did (sudoRefusal).
        endStdinIf: sudoAskedAgain,
        reached,
      }),
    );
    const first = await exec.next();
    await hostWorkTurn();
    let outcomes: ReadonlyMap<string, FactOutcome>;
    try {
      outcomes = 'ended' in first ? this.#parseGather(first.ended, facts) : parseGatherOutput(first.stdout, facts, first.stderr);
    } catch (error) {
      if (!('ended' in first)) first.answer();
      throw error;
    }
    const followUp = async (word?: Word): Promise<ExecResult> => {
      if ('ended' in first) return sinceLastHold(first.ended);
      const chains = word !== undefined && word === chainAfter;
      if (!exec.answer(first, word === undefined ? '\n' : `${word}\n`, chains) && word !== undefined) {
        throw new CasfleetError(
          `${this.host} had stopped waiting for casfleet's decision (after ${seconds(this.#options.gatherTimeoutMs)}): '${word}' was not run`,
        );
      }
      if (!chains) return sinceLastHold(await exec.done);
      const { result, waiting } = await resultAndNextHold(exec);
      if (waiting) this.#chain = new ExecChain(exec, waiting);
      return result;
    };
    let decided: Promise<ExecResult> | undefined;
    return {
      facts: outcomes,
      answer: (word) => {
        decided ??= followUp(word);
        return decided;
      },
    };
  }

  /** End the exec kept open for changes (gatherHeld's `chainAfter`), if there is one; later changes get execs of their own. */
  async endChain(): Promise<void> {
    const chain = this.#chain;
    this.#chain = undefined;
    await chain?.end();
  }

  /** Login-scope facts as the login user, then the others and `elevatedTail` after privilege escalation. */
  #gatherScript(facts: readonly AnyFact[], elevatedTail?: string): string {
    const login = facts.filter(isLogin);
    const rest = facts.filter((fact) => !isLogin(fact));
    const restScript = buildGatherScript(rest);
    // Before a tail that reads its answer on stdin, the facts read /dev/null, as a gather's always did.
    const privileged =
      elevatedTail === undefined ? restScript : [restScript && `{\n${restScript}\n} </dev/null`, elevatedTail].filter(Boolean).join('\n');
    const elevated = privileged ? withBecome({ script: privileged, display: '' }, this.#options.become).script : '';
    return [buildGatherScript(login), elevated].filter(Boolean).join('\n');
  }

  #parseGather(result: ExecResult, facts: readonly AnyFact[]): ReadonlyMap<string, FactOutcome> {
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

  /**
   * Run one change, then re-read `refetch` facts in the same exec (login-scope facts keep their
   * value): the exec kept open for changes when there is one, else an exec of its own.
   */
  async apply(command: RemoteCommand, stdin: ChangeStdin | undefined, refetch: readonly AnyFact[]): Promise<ApplyResult> {
    const reread = refetch.filter((fact) => fact.scope !== 'login');
    const { enter, leave } = this.#changeGuard;
    const change = `( ${enter}${command.script}\n)`;
    const rest = `\ncasfleet_status=$?\n${leave}printf '\\n%s %s\\n' '${APPLY_STATUS_MARK}' "$casfleet_status"\n${buildGatherScript(reread)}`;
    const chained = stdin === undefined ? change : withInput(change, stdin);
    const own = stdin === undefined ? undefined : overStdin(stdin);
    const result =
      (chained === undefined ? undefined : await this.#chain?.run(`${chained}${rest}`)) ??
      (await this.#run(
        { script: `${own?.first ?? ''}${change}${rest}`, display: command.display },
        this.#options.applyTimeoutMs,
        own?.text,
      ));
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
  async #execWrapped(script: string, timeoutMs: number, elevated: boolean, stdin?: string, hold?: ExecHold): Promise<ExecResult> {
    const { become } = this.#options;
    const input = elevated ? becomeStdin(become, stdin) : stdin;
    const result = await this.#connection.exec(script, {
      timeoutMs,
      ...(input === undefined ? {} : { stdin: input }),
      ...(hold === undefined ? {} : { hold }),
    });
    // sudo refused before running anything: say why, in place of whatever the command would have said.
    const refusal = result.code === 0 || !elevated ? undefined : sudoRefusal(become, result.stderr);
    if (refusal !== undefined)
      throw new SudoError(`become on ${this.host}: ${refusal}; nothing was run`, result.code, '', { host: this.host });
    return elevated ? { ...result, stderr: withoutBecomeStart(result.stderr) } : result;
  }
}

const isLogin = (fact: AnyFact): boolean => fact.scope === 'login';

const joinOutput = (stdout: string, stderr: string): string => [stdout.trim(), stderr.trim()].filter(Boolean).join('\n');
