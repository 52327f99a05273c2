// Once a transaction has begun, the gather's exec stays open and runs the host's change commands one
// after the other: each is sent when casfleet has planned it from what the one before re-read, as a
// new exec would be, but costs the host a subshell (and, where /bin/sh is bash, one `head`) instead
// of a session of its own (sshd's session, the login shell and the hand-off to /bin/sh: about 19 ms
// of a lab host's CPU).
//
// What the host runs is what a new exec would have run, in the same order, and decided at the same
// moment. If casfleet or the connection dies between two commands, the loop reads EOF and runs
// nothing more, as no further exec would have come; a frame cut short is never run. A command whose
// input cannot travel inside its frame goes over an exec of its own.

import { randomBytes } from 'node:crypto';
import { quote } from '../command/shell.ts';
import { type ChangeStdin, partsInFrame } from '../command/stdin-parts.ts';
import type { ExecResult, HeldAt } from '../ssh/connection.ts';

/**
 * The line a held exec prints (on stdout and on stderr) when it waits for casfleet: the gather's
 * hold (HostSession.gatherHeld), then the chain's, one for each command.
 */
export const HOLD_MARK = '\u001ecasfleet-hold';
/** Before HOLD_MARK on stdout: the exit status of what ran last. */
const STATUS_MARK = '\u001ecasfleet-status';
/** The last line of every frame: a frame without it arrived cut short. */
const END_LINE = '#\u001ecasfleet-end';

/** What ends every command the chain runs: its status, then the hold (the next command is awaited). */
const HOLD_LINES = `printf '\\n%s %s\\n%s\\n' '${STATUS_MARK}' "$casfleet_status" '${HOLD_MARK}'
printf '\\n%s\\n' '${HOLD_MARK}' >&2`;

// A frame is one compound command: the script in a subshell with stdin /dev/null (as a new exec's
// would run in a new shell), then its status and the next hold; its first line is a no-op that
// gives the length of the rest, and its last line END_LINE. The loop runs in a new /bin/sh, so no
// command sees what the gather's or the begin's shell left (variables, functions, umask).
//
// dash reads the frames as its own script (`sh -s`): it reads stdin in blocks and parses a
// compound command whole before it runs any of it, so a frame cut short (EOF before its closing
// brace) is a syntax error and never runs, and a frame costs no process. bash, where it is
// /bin/sh, reads a script from a pipe one byte per system call; its loop reads each frame with
// `head -c` (its `read` is no better: 12 ms for 6 kB on a lab host) and runs it only when it ends
// with END_LINE.
const HEAD_LOOP = `while IFS= read -r casfleet_size; do
  casfleet_size=\${casfleet_size#': '}
  case $casfleet_size in ''|*[!0-9]*) exit 4 ;; esac
  casfleet_script=$(exec head -c "$casfleet_size") || exit 4
  case $casfleet_script in *'${END_LINE}') ;; *) exit 4 ;; esac
  eval "$casfleet_script"
done
exit 0`;

// The first hold (casfleet_status is the begin's 0), then the loop: what casfleet sends after it
// waits in the pipe for the new shell.
const START_LOOP = `${HOLD_LINES}
if [ -n "\${BASH_VERSION-}" ]; then exec /bin/sh -c ${quote(HEAD_LOOP)} casfleet-chain; fi
exec /bin/sh -s`;

/** The frame that makes the chain run `script` next (see above). */
export const chainFrame = (script: string): string => {
  const body = `{ ( ${script}\n) </dev/null\ncasfleet_status=$?\n${HOLD_LINES}\n}\n${END_LINE}\n`;
  return `: ${Buffer.byteLength(body)}\n${body}`;
};

/**
 * Shell that runs `script` (in a subshell: its umask, variables and exit stay there), then, when it
 * succeeded, turns the exec into a chain waiting for its first command; otherwise the exec ends
 * with the script's status.
 */
export const thenChain = (script: string): string =>
  `( ${script}\n)\ncasfleet_status=$?\n[ "$casfleet_status" -eq 0 ] || exit "$casfleet_status"\n${START_LOOP}`;

/**
 * `script` with its input inside the frame: parts as variables set before it (StdinParts), a plain
 * string as a here-document (the chained command's own stdin is /dev/null); undefined when the
 * input cannot travel there (a NUL in a part; a string without a newline at its end would gain one).
 */
export const withInput = (script: string, stdin: ChangeStdin): string | undefined => {
  if (typeof stdin !== 'string') {
    const parts = partsInFrame(stdin);
    return parts === undefined ? undefined : `${parts}${script}`;
  }
  if (!stdin.endsWith('\n')) return undefined;
  const delimiter = `CASFLEET_STDIN_${randomBytes(8).toString('hex')}`;
  if (stdin.includes(delimiter)) return undefined;
  return `${script} <<'${delimiter}'\n${stdin}${delimiter}`;
};

/** What a chained command did: its output up to the status line, and that status. */
export const chainedResult = (at: Pick<HeldAt, 'stdout' | 'stderr'>): ExecResult => {
  const statusAt = at.stdout.lastIndexOf(`\n${STATUS_MARK} `);
  // The loop's own newline before HOLD_MARK on stderr is not the command's.
  const stderr = at.stderr.endsWith('\n') ? at.stderr.slice(0, -1) : at.stderr;
  if (statusAt < 0) return { stdout: at.stdout, stderr, code: null };
  const code = Number.parseInt(at.stdout.slice(statusAt + STATUS_MARK.length + 2), 10);
  return { stdout: at.stdout.slice(0, statusAt), stderr, code: Number.isNaN(code) ? null : code };
};

/**
 * What an exec that ended printed since its last hold (none when it ended before holding): what the
 * follow-up or chained command it was last told to run did.
 */
export const sinceLastHold = (result: ExecResult): ExecResult => {
  const after = (text: string): string => {
    const at = text.lastIndexOf(`\n${HOLD_MARK}\n`);
    return at < 0 ? '' : text.slice(at + HOLD_MARK.length + 2);
  };
  return { ...result, stdout: after(result.stdout), stderr: after(result.stderr) };
};

/** A promise and what settles it (Promise.withResolvers comes with Node 22). */
const deferred = <T>(): { promise: Promise<T>; resolve: (value: T) => void } => {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
};

/** How a held exec ended, when it ended before (or instead of) its next hold. */
export interface ExecEnded {
  readonly ended: ExecResult;
}

/** One exec that holds, possibly again and again: its holds in order, and its end. */
export class HeldExec {
  #next = deferred<HeldAt>();
  readonly done: Promise<ExecResult>;

  /** `start` runs the exec, calling `reached` at each hold (ExecHold.reached). */
  constructor(start: (reached: (at: HeldAt) => void) => Promise<ExecResult>) {
    this.done = start((at) => this.#next.resolve(at));
    // Whoever waits for the end awaits `done`; until then a failure must not go unhandled.
    this.done.catch(() => undefined);
  }

  /** The script's next hold, or how the exec ended; rejects when the exec failed (lost, timed out). */
  next(): Promise<HeldAt | ExecEnded> {
    return Promise.race([this.#next.promise, this.done.then((ended) => ({ ended }))]);
  }

  /** Answer the hold `at` (HeldAt.answer); with `again`, `next()` then waits for the hold that follows. */
  answer(at: HeldAt, text?: string, again = false): boolean {
    if (again) this.#next = deferred();
    return at.answer(text, again);
  }
}

/**
 * After an answer that keeps `exec` holding: what the command it started did, and the hold the exec
 * waits at next (none when the exec ended instead).
 */
export const resultAndNextHold = async (exec: HeldExec): Promise<{ readonly result: ExecResult; readonly waiting?: HeldAt }> => {
  const next = await exec.next();
  return 'ended' in next ? { result: sinceLastHold(next.ended) } : { result: chainedResult(next), waiting: next };
};

/** An exec waiting in the chain's loop for its next command. */
export class ExecChain {
  readonly #exec: HeldExec;
  #waiting: HeldAt | undefined;

  constructor(exec: HeldExec, waiting: HeldAt) {
    this.#exec = exec;
    this.#waiting = waiting;
  }

  /**
   * Run `script` next and resolve with what it did; undefined, with nothing sent, when the chain is
   * over (it had waited longer than the exec's timeout, or its exec ended). Rejects as an exec
   * would when the connection is lost or the command times out.
   */
  async run(script: string): Promise<ExecResult | undefined> {
    const at = this.#waiting;
    if (at === undefined) return undefined;
    this.#waiting = undefined;
    if (!this.#exec.answer(at, chainFrame(script), true)) return undefined;
    // No next hold: the loop's shell died while the command ran.
    const { result, waiting } = await resultAndNextHold(this.#exec);
    this.#waiting = waiting;
    return result;
  }

  /** Send EOF (the loop ends, running nothing more) and wait for the exec's end. */
  async end(): Promise<void> {
    const at = this.#waiting;
    this.#waiting = undefined;
    at?.answer();
    await this.#exec.done.catch(() => undefined);
  }
}
