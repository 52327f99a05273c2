// Runs one command on one SSH session channel of an established ssh2 Client. This replaces node-ssh's
// execCommand, which corrupts UTF-8 at chunk boundaries, trims output, has no timeout and waits for
// 'close' forever when a background child keeps stdout open (research/deps.md §1.7, §1.9).

import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { RemoteCommandError } from '../errors.ts';
import { seconds } from './connect-errors.ts';
import type { ExecHold, ExecOptions, ExecResult } from './connection.ts';
import { type FoundHold, findHold, type HoldScan, markerLineWatch } from './exec-hold.ts';

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/**
 * How long to wait for 'close' after 'exit'. 'close' normally follows within a millisecond; it is late
 * only when a background child (`daemon &`) still holds stdout/stderr. We then stop waiting, close our
 * side and return what the command printed: its exit status is already known.
 */
export const EXIT_GRACE_MS = 250;

/** sshd refuses sessions beyond MaxSessions, and frees slots a little after 'close' (reason 2). */
const OPEN_RETRY_DELAYS_MS = [50, 100, 200, 400];

export interface ChannelContext {
  /** Inventory name, for messages. */
  readonly host: string;
  /** Why the connection is gone, or undefined while it is up. */
  readonly lostReason: () => string | undefined;
}

interface Ssh2ChannelError extends Error {
  readonly reason?: number | string;
}

const isSessionLimit = (error: unknown): boolean => (error as Ssh2ChannelError | undefined)?.reason === 2;

const MAX_TIMER_MS = 2 ** 31 - 1;

// Infinity means "no timeout" (keepalive still catches a dead host); setTimeout would fire at once.
const after = (ms: number, callback: () => void): NodeJS.Timeout | undefined =>
  Number.isFinite(ms) ? setTimeout(callback, Math.min(ms, MAX_TIMER_MS)) : undefined;

// sshd runs a command through the login shell, whose startup files may print (Debian's bash reads
// ~/.bashrc for an sshd command: a banner, a fortune, a warning). The script first prints a marker
// line on stdout and on stderr, and what came before it is cut off, so no parser ever sees a
// startup file's words: a disarm's answer read "hello" once and rolled a healthy host back.
const OUTPUT_START = '\u001ecasfleet-output';

// The same files may leave the shell in a state no script expects: noclobber (`>` fails on the temp
// file a write just made), errexit, nounset, noglob, xtrace, aliases (`cp -i` asks and waits),
// failglob, an IFS or CDPATH of their own. Undone with builtins, in dash as in bash; `unalias -a`
// on its own line, as bash expands aliases when it reads a line. zsh runs the scripts in its sh
// emulation (word splitting, no error on a glob without a match).
const SHELL_RESET = `if [ -n "\${ZSH_VERSION-}" ]; then emulate sh; fi
set +e +u +f +C +a +v +x; unset IFS CDPATH; unalias -a 2>/dev/null
if [ -n "\${BASH_VERSION-}" ]; then shopt -u failglob nullglob; fi`;

// A login bash hands the script to /bin/sh when that is another shell (dash on Debian and Ubuntu),
// which is then the shell that runs it. On this kind of host every process a script starts costs
// bash about 2 ms more than dash (fork of a larger process, then its copy-on-write faults): a
// firewall change starts dozens. The script is the one bash was given (BASH_EXECUTION_STRING); $0
// tells the second shell it is the second, so a /bin/sh that is a bash of its own runs it as is.
const SYSTEM_SHELL_NAME = 'casfleet-sh';
const TO_SYSTEM_SHELL = `if [ -n "\${BASH_VERSION-}" ] && [ "$0" != ${SYSTEM_SHELL_NAME} ] && [ -n "\${BASH_EXECUTION_STRING-}" ] && [ -x /bin/sh ] && ! [ /bin/sh -ef "\${BASH-}" ]; then
  exec /bin/sh -c "$BASH_EXECUTION_STRING" ${SYSTEM_SHELL_NAME}
fi`;

/**
 * The script as sent: the shell reset (its xtrace, if any, before the markers), the move to /bin/sh,
 * the start markers, then the script.
 */
const withOutputStart = (script: string): string =>
  `${SHELL_RESET}\n${TO_SYSTEM_SHELL}\nprintf '%s\\n' '${OUTPUT_START}'; printf '%s\\n' '${OUTPUT_START}' >&2\n${script}`;

/** What the script itself printed: the text after the first start marker (all of it when the shell never got there). */
const afterOutputStart = (text: string): string => {
  const at = text.indexOf(`${OUTPUT_START}\n`);
  return at < 0 ? text : text.slice(at + OUTPUT_START.length + 1);
};

export const runOnChannel = (client: Client, script: string, options: ExecOptions, context: ChannelContext): Promise<ExecResult> =>
  new Promise<ExecResult>((resolve, reject) => {
    const { host } = context;
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const stdoutDecoder = new StringDecoder('utf8');
    const stderrDecoder = new StringDecoder('utf8');
    let stdout = '';
    let stderr = '';
    let channel: ClientChannel | undefined;
    let exit: { code: number | null; signal: string | undefined } | undefined;
    let settled = false;
    /** The script's start marker came: the login shell ran the script. */
    let started = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const { hold } = options;
    /** Where the script's next hold is looked for; undefined while it waits for an answer, or holds no more. */
    let scan: HoldScan | undefined;
    /** The first hold came, or stdin ended before it (endStdinIf). */
    let heldOnce = false;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(retryTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // A multibyte character cut off by the end of output is flushed (as U+FFFD) rather than lost.
      stdout += stdoutDecoder.end();
      started = stdout.includes(`${OUTPUT_START}\n`);
      stdout = afterOutputStart(stdout);
      stderr = afterOutputStart(stderr + stderrDecoder.end());
      outcome();
    };

    const fail = (message: string, cause?: unknown): void =>
      settle(() => {
        // Closing our side frees the session slot. Without a pty the remote process is NOT killed by this.
        channel?.close();
        reject(new RemoteCommandError(message, null, stderr, cause === undefined ? { host } : { host, cause }));
      });

    const result = (): ExecResult => {
      const code = exit?.code ?? null;
      return exit?.signal === undefined ? { stdout, stderr, code } : { stdout, stderr, code, signal: exit.signal };
    };

    // An exit without the start marker: the login shell could not run a POSIX script (fish), or
    // sshd ran a ForceCommand instead. Whatever it printed answers no question casfleet asked.
    const finish = (): void => {
      if (exit !== undefined && !started) {
        const said = stderr.trim().split('\n').slice(0, 3).join(' | ');
        reject(
          new RemoteCommandError(
            `the login shell on ${host} did not run casfleet's script (exit ${exit.code ?? exit.signal}${said ? `: ${said}` : ''}); ` +
              'casfleet needs a POSIX login shell (bash, dash or zsh) for the SSH user, and no ForceCommand',
            exit.code,
            stderr,
            { host },
          ),
        );
        return;
      }
      resolve(result());
    };

    const onClose = (): void =>
      settle(() => {
        const lost = context.lostReason();
        if (exit === undefined && lost !== undefined) {
          reject(
            new RemoteCommandError(`connection to ${host} was lost while a command ran (${lost}); its outcome is unknown`, null, stderr, {
              host,
            }),
          );
          return;
        }
        // No exit status on a live connection: reported as code null, never as success.
        finish();
      });

    const onExitGraceOver = (): void =>
      settle(() => {
        channel?.close();
        finish();
      });

    // The marker came: the timeout stops while casfleet decides (bounded by the same time, after
    // which the script reads EOF), then runs again for what the answer makes the script do.
    const onHeld = (opened: ClientChannel, { reached, followUpTimeoutMs }: ExecHold, found: FoundHold): void => {
      heldOnce = true;
      clearTimeout(timeoutTimer);
      let answered = false;
      const answer = (text?: string, again = false): boolean => {
        if (answered || settled) return false;
        answered = true;
        clearTimeout(timeoutTimer);
        if (again && text !== undefined) {
          opened.write(text);
          scan = found.next;
        } else opened.end(text);
        startTimeout(followUpTimeoutMs ?? timeoutMs);
        // The next hold may have come already (a server that answers before it reads, as a replay does).
        if (again) queueMicrotask(() => lookForHold(opened));
        return true;
      };
      timeoutTimer = after(timeoutMs, () => answer());
      reached({ stdout: found.stdout, stderr: found.stderr, answer });
    };

    // Offsets are into stdout and stderr as received (the login shell's own output included); a
    // hold is looked for after the script's start marker.
    const lookForHold = (opened: ClientChannel): void => {
      if (hold === undefined || settled) return;
      if (scan === undefined) {
        if (heldOnce) return;
        const out = stdout.indexOf(`${OUTPUT_START}\n`);
        const err = stderr.indexOf(`${OUTPUT_START}\n`);
        if (out < 0 || err < 0) return;
        scan = { stdoutFrom: out + OUTPUT_START.length + 1, stderrFrom: err + OUTPUT_START.length + 1 };
      }
      const found = findHold(stdout, stderr, hold.marker, scan);
      if (found === undefined) return;
      scan = undefined;
      onHeld(opened, hold, found);
    };

    const attach = (opened: ClientChannel): void => {
      channel = opened;
      const stdoutCompletes = hold && markerLineWatch(hold.marker);
      const stderrCompletes = hold && markerLineWatch(hold.marker);
      opened.on('data', (chunk: Buffer) => {
        const text = stdoutDecoder.write(chunk);
        stdout += text;
        if (stdoutCompletes?.(text)) lookForHold(opened);
      });
      opened.stderr.on('data', (chunk: Buffer) => {
        const text = stderrDecoder.write(chunk);
        stderr += text;
        if (hold?.endStdinIf && !heldOnce && hold.endStdinIf(afterOutputStart(stderr))) {
          heldOnce = true;
          scan = undefined;
          opened.end();
        }
        if (stderrCompletes?.(text)) lookForHold(opened);
      });
      // Channel-level errors (e.g. writing stdin to a command that already quit) end in 'close' anyway.
      opened.on('error', () => {});
      opened.on('exit', (code: number | null, signalName?: string) => {
        exit = { code: code ?? null, signal: signalName ?? undefined };
        graceTimer = setTimeout(onExitGraceOver, EXIT_GRACE_MS);
      });
      opened.on('close', onClose);
      // Always send EOF (after the hold's answer): a command that reads stdin (cat, sudo -S) would otherwise wait forever.
      if (hold !== undefined) {
        if (options.stdin !== undefined) opened.write(options.stdin);
      } else if (options.stdin === undefined) opened.end();
      else opened.end(options.stdin);
    };

    const open = (attempt: number): void => {
      const onOpened = (error: Error | undefined, opened: ClientChannel): void => {
        if (settled) {
          // Timed out or aborted while the server was still answering the open request.
          if (!error) opened.close();
          return;
        }
        if (!error) {
          attach(opened);
          return;
        }
        const delay = OPEN_RETRY_DELAYS_MS[attempt];
        if (isSessionLimit(error) && delay !== undefined) {
          retryTimer = setTimeout(() => open(attempt + 1), delay);
          return;
        }
        const lost = context.lostReason();
        fail(`cannot open an SSH channel on ${host}: ${lost ?? error.message}`, error);
      };
      try {
        client.exec(withOutputStart(script), onOpened);
      } catch (error) {
        // ssh2 throws "Not connected" synchronously once the socket is gone.
        fail(`cannot run a command on ${host}: ${context.lostReason() ?? (error as Error).message}`, error);
      }
    };

    const onAbort = (): void => fail(`command on ${host} was aborted`, options.signal?.reason);
    function startTimeout(ms: number): void {
      timeoutTimer = after(ms, () =>
        fail(
          `command timed out after ${seconds(ms)} on ${host} ` +
            '(the remote process may still be running: closing a channel without a pty does not stop it)',
        ),
      );
    }
    startTimeout(timeoutMs);
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    open(0);
  });
