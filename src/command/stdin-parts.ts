// What a change sends its command besides the script: file contents. A plain string is the
// command's stdin, over an exec of its own or, in the exec chain (run/exec-chain.ts), as a
// here-document of its frame. StdinParts is for commands that read their input with `partRef`
// under `IN_FRAME`: over an exec of their own the parts still come on stdin, one after the other;
// in the chain each part is a shell variable set at the top of the frame, which the command prints
// with printf, a builtin, where it would otherwise read stdin with a process (dd, and under dash a
// forked writer for a here-document over 4 KiB): two files of ufw's rules cost a lab host about
// 12 ms of CPU that way, about 1 ms as variables. A frame is read from the loop's stdin, never from
// a command line, so the content shows in no process listing, as on stdin.
import { quote, type RawText, raw } from './shell.ts';

/** Input in parts, for a command that reads each with `partRef(i)` when `IN_FRAME` holds, else from stdin in order. */
export interface StdinParts {
  readonly parts: readonly string[];
}

export type ChangeStdin = string | StdinParts;

/** The bytes on stdin, when the command runs with them there. */
export const stdinText = (stdin: ChangeStdin): string => (typeof stdin === 'string' ? stdin : stdin.parts.join(''));

const PARTS_VAR = 'casfleet_in';

/** Shell test: the parts came as variables of the frame (and not on stdin). */
export const IN_FRAME: RawText = raw(`[ -n "\${${PARTS_VAR}-}" ]`);

/** The quoted shell word of part `index` when IN_FRAME holds. */
export const partRef = (index: number): RawText => raw(`"$${PARTS_VAR}_${index}"`);

/**
 * The lines that set the parts at the top of a chained frame, or undefined when a part cannot be
 * a shell string (a NUL byte): the change then goes over an exec of its own.
 */
export const partsInFrame = ({ parts }: StdinParts): string | undefined =>
  parts.some((part) => part.includes('\0'))
    ? undefined
    : `${PARTS_VAR}=frame\n${parts.map((part, index) => `${PARTS_VAR}_${index}=${quote(part)}\n`).join('')}`;

/**
 * For an exec of its own: what runs before the command (with parts, an empty marker, so that no
 * variable of the environment is taken for a frame's) and the bytes of its stdin.
 */
export const overStdin = (stdin: ChangeStdin): { readonly first: string; readonly text: string } =>
  typeof stdin === 'string' ? { first: '', text: stdin } : { first: `${PARTS_VAR}=\n`, text: stdinText(stdin) };
