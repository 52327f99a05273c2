// Where a held exec (ExecOptions.hold) waits: the marker line it prints on stdout and on stderr when
// it has read what casfleet must decide on, found in what it printed so far. Pure, shared by the SSH
// channel and the tests' local connection.

/** Where the next hold's lines are looked for: offsets into stdout and stderr as received so far. */
export interface HoldScan {
  readonly stdoutFrom: number;
  readonly stderrFrom: number;
  /**
   * Where the search goes on when more output comes: no marker line starts between `…From` and
   * these (a gather prints tens of kB in small chunks; searching all of it again for each chunk
   * cost the controller more than parsing it).
   */
  readonly stdoutOn?: number;
  readonly stderrOn?: number;
}

export interface FoundHold {
  /** What the script printed on stdout since the scan's start, up to the marker line. */
  readonly stdout: string;
  /** The same on stderr. */
  readonly stderr: string;
  /** Where the next hold is looked for, once this one is answered with more to come. */
  readonly next: HoldScan;
}

/** Where the line `marker` starts in `text`, searching from `on` (≥ `from`, the start of the output looked at), or -1. */
const lineFrom = (text: string, marker: string, from: number, on: number): number => {
  if (on === from && (from === 0 || text[from - 1] === '\n') && text.startsWith(`${marker}\n`, from)) return from;
  const at = text.indexOf(`\n${marker}\n`, Math.max(from, on - 1));
  return at < 0 ? -1 : at + 1;
};

/** Where a search that found nothing in `text` goes on: a marker line cut off at its end may still complete. */
const resumeAt = (text: string, marker: string, from: number): number => Math.max(from, text.length - marker.length - 1);

/**
 * The hold `scan` waits for, once its marker line came on both streams (they reach casfleet in no
 * fixed order, and what the script printed on stderr before holding belongs to what it did before),
 * or the scan to go on with when more output comes.
 */
export const findHold = (stdout: string, stderr: string, marker: string, scan: HoldScan): FoundHold | { readonly scan: HoldScan } => {
  const out = lineFrom(stdout, marker, scan.stdoutFrom, scan.stdoutOn ?? scan.stdoutFrom);
  const err = lineFrom(stderr, marker, scan.stderrFrom, scan.stderrOn ?? scan.stderrFrom);
  if (out < 0 || err < 0) {
    return {
      scan: {
        ...scan,
        stdoutOn: out < 0 ? resumeAt(stdout, marker, scan.stdoutFrom) : (scan.stdoutOn ?? scan.stdoutFrom),
        stderrOn: err < 0 ? resumeAt(stderr, marker, scan.stderrFrom) : (scan.stderrOn ?? scan.stderrFrom),
      },
    };
  }
  return {
    stdout: stdout.slice(scan.stdoutFrom, out),
    stderr: stderr.slice(scan.stderrFrom, err),
    next: { stdoutFrom: out + marker.length + 1, stderrFrom: err + marker.length + 1 },
  };
};
