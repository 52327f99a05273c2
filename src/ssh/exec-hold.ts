// Where a held exec (ExecOptions.hold) waits: the marker line it prints on stdout and on stderr when
// it has read what casfleet must decide on, found in what it printed so far. Pure, shared by the SSH
// channel and the tests' local connection.

/** Where the next hold's lines are looked for: offsets into stdout and stderr as received so far. */
export interface HoldScan {
  readonly stdoutFrom: number;
  readonly stderrFrom: number;
}

export interface FoundHold {
  /** What the script printed on stdout since the scan's start, up to the marker line. */
  readonly stdout: string;
  /** The same on stderr. */
  readonly stderr: string;
  /** Where the next hold is looked for, once this one is answered with more to come. */
  readonly next: HoldScan;
}

/** Where the line `marker` starts in `text` at or after `from` (a line of its own), or -1. */
const lineFrom = (text: string, marker: string, from: number): number => {
  if ((from === 0 || text[from - 1] === '\n') && text.startsWith(`${marker}\n`, from)) return from;
  const at = text.indexOf(`\n${marker}\n`, from);
  return at < 0 ? -1 : at + 1;
};

/**
 * The hold `scan` waits for, once its marker line came on both streams (they reach casfleet in no
 * fixed order, and what the script printed on stderr before holding belongs to what it did before).
 */
export const findHold = (stdout: string, stderr: string, marker: string, scan: HoldScan): FoundHold | undefined => {
  const out = lineFrom(stdout, marker, scan.stdoutFrom);
  const err = out < 0 ? -1 : lineFrom(stderr, marker, scan.stderrFrom);
  if (err < 0) return undefined;
  return {
    stdout: stdout.slice(scan.stdoutFrom, out),
    stderr: stderr.slice(scan.stderrFrom, err),
    next: { stdoutFrom: out + marker.length + 1, stderrFrom: err + marker.length + 1 },
  };
};

/**
 * For one stream: whether the text that just came completes a marker line, so a hold is looked for
 * only then. Searching all the output again for each chunk (tens of kB of facts, in small chunks,
 * the accumulated string flattened each time) is quadratic.
 */
export const markerLineWatch = (marker: string): ((text: string) => boolean) => {
  let tail = '';
  return (text) => {
    const seen = tail + text;
    tail = seen.slice(-marker.length);
    return seen.includes(`${marker}\n`);
  };
};
