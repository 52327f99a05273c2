// Facts about one file: existence, type, owner/group/mode and content, plus the casfleet backups of
// it. Content travels as base64 so any byte (Latin-1 .properties, CRLF, a missing final newline)
// reaches the planner unchanged, or as it is when it is printable ASCII that bash read without a
// process (see fileScript); either way it becomes a Latin-1 "binary string" (one char per byte) so
// editing and re-encoding never changes a byte the planner did not mean to change.
import { posix } from 'node:path';
import { isPrintableAscii } from '../command/plain-text.ts';
import { raw, sh } from '../command/shell.ts';
import { FactError } from '../errors.ts';
import { absolutePathSchema, parseArgs } from './args.ts';
import { backupDirFor, type FileBackup, parseBackupName } from './backup-name.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';

export type { FileBackup } from './backup-name.ts';

/** Files larger than this are reported without content (casfleet edits small config files only). */
export const MAX_CONTENT_BYTES = 1024 * 1024;

/** Files up to this size may travel as text (read by bash's `read`, which holds them in memory). */
const MAX_TEXT_BYTES = 64 * 1024;

/**
 * Under dash, files up to this size are read as text by a `read` loop. dash reads one byte per
 * system call (about 1.6 µs each on the lab's hosts): past this a base64 process (about 2.5 ms) costs less.
 */
const MAX_LOOP_TEXT_BYTES = 1536;

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

/** A FileType in a sentence: "… is a directory, not a regular file". */
export const FILE_TYPE_NAMES: Readonly<Record<FileType, string>> = {
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symlink',
  other: 'a special file (device, FIFO or socket)',
};

interface PresentFile {
  readonly exists: true;
  readonly type: FileType;
  readonly uid: number;
  readonly gid: number;
  /** Owner and group names (`UNKNOWN` when the id has no name). */
  readonly owner: string;
  readonly group: string;
  /** Octal permission bits, e.g. `640`. */
  readonly mode: string;
  readonly size: number;
  /** Where a symlink points (readlink, not resolved); only for type 'symlink'. */
  readonly target?: string;
}

/** A file without its content (fileInfoFact): for steps that only remove or put back a file. */
export type FileInfo = { readonly exists: false } | PresentFile;

export type FileState =
  | { readonly exists: false }
  | (PresentFile & {
      /** Latin-1 binary string of the bytes; null for non-regular files and files over MAX_CONTENT_BYTES. */
      readonly content: string | null;
    });

const TYPES: Readonly<Record<string, FileType>> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'symlink',
};

/** The content section after the stat line (base64 or text), or null when there is none. */
const parseContent = (factId: string, marker: string | undefined, body: readonly string[], size: number): string | null => {
  if (marker === 'content') {
    const base64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw new FactError(`${factId}: content is not base64`);
    }
    const bytes = Buffer.from(base64, 'base64');
    // Fewer bytes than stat counted means the read failed (no permission, no become): an empty
    // content here would read as "key absent" and plan the wrong change.
    if (bytes.length < Math.min(size, MAX_CONTENT_BYTES + 1)) {
      throw new FactError(
        `${factId}: read ${bytes.length} of ${size} bytes (is the file readable by the login user? become may be needed)`,
      );
    }
    // head -c cut the file one byte past the limit: that byte proves it is too large to edit.
    return bytes.length > MAX_CONTENT_BYTES ? null : bytes.toString('latin1');
  }
  if (marker === 'text') {
    const text = body.join('\n');
    // The stat size proves the text whole: a cut, a changed file or a decoding accident differs.
    if (!isPrintableAscii(text) || text.length !== size) {
      throw new FactError(`${factId}: the text section does not hold the file's ${size} bytes of printable ASCII`);
    }
    return text;
  }
  if (marker !== undefined || body.length > 0) throw new FactError(`${factId}: unexpected line after stat: "${marker ?? ''}"`);
  return null;
};

/** The fact's output as a FileState; with `withContent` false, as a FileInfo (no content section expected). */
function parseFileState(factId: string, output: string, withContent: false): FileInfo;
function parseFileState(factId: string, output: string, withContent?: true): FileState;
function parseFileState(factId: string, output: string, withContent = true): FileState | FileInfo {
  const lines = factLines(factId, output);
  if (lines.length === 1 && lines[0] === 'absent') return { exists: false };
  const [statLine = '', ...rest] = lines;
  const link = rest[0]?.startsWith('target ') ? rest.shift()?.slice('target '.length) : undefined;
  const [marker, ...body] = rest;
  const stat = /^stat (\d+) (\d+) ([0-7]{3,4}) (\d+) (\S+) (\S+) (.+)$/.exec(statLine);
  if (!stat) throw new FactError(`${factId}: expected "absent" or a stat line, got "${statLine}"`);
  const [, uid, gid, mode = '', size, owner = '', group = '', typeText = ''] = stat;
  const type = TYPES[typeText] ?? 'other';
  const content = parseContent(factId, marker, body, Number(size));
  if (withContent && type === 'file' && content === null && Number(size) <= MAX_CONTENT_BYTES) {
    throw new FactError(`${factId}: regular file without content section`);
  }
  if (!withContent && marker !== undefined) throw new FactError(`${factId}: unexpected content section`);
  if ((type === 'symlink') !== (link !== undefined)) throw new FactError(`${factId}: a target line goes with a symlink, and only with one`);
  const info: PresentFile = {
    exists: true,
    type,
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    mode,
    size: Number(size),
    ...(link === undefined ? {} : { target: link }),
  };
  return withContent ? { ...info, content } : info;
}

const STAT_FORMAT = 'stat %u %g %a %s %U %G %F';
const STATS_VAR = 'casfleet_file_stats';

// One `stat` for the paths of every file fact in a gather. Its records, "path <p>" then the stat
// line, cannot be confused: a path has no newline (absolutePathSchema) and a stat line starts with
// "stat ". A missing path has no record (stat says why on stderr, which is dropped: the fact's own
// existence test decides).
const statPrelude = (paths: readonly string[]): string =>
  sh`${raw(STATS_VAR)}=$(exec stat --printf ${`path %n\n${STAT_FORMAT}\n`} -- ${paths} 2>/dev/null)`.script;

// The script of fileFact and fileInfoFact: the stat line, a symlink's target and, `withContent`, the
// content of a regular file, which a step that only removes or puts back a file does not need. A
// small file is read by the shell (bash's buffered `read -d ''`; under dash a line loop, for the
// smallest files only) and printed as it is when every byte is printable ASCII or white space
// (gate.properties, CAS's config files) and the count is the stat size (a NUL or a lost byte makes it
// differ); anything else goes through one base64 process. The gather's C locale makes ${#t} count bytes.
const fileScript = (checked: string, withContent: boolean): string => {
  const content = withContent
    ? sh`
  if [ -f "$p" ] && [ ! -L "$p" ]; then
    n=\${s#stat * * * }; n=\${n%% *}; t=
    if [ -n "\${BASH_VERSION-}" ]; then
      [ "$n" -le ${MAX_TEXT_BYTES} ] 2>/dev/null && IFS= read -r -d '' t <"$p"
    elif [ "$n" -le ${MAX_LOOP_TEXT_BYTES} ] 2>/dev/null; then
      l=; while IFS= read -r l; do t="$t$l$nl"; done <"$p"; t="$t$l"
    fi
    if [ "\${#t}" = "$n" ] && case $t in *[![:print:][:space:]]*) false ;; esac; then
      printf 'text\\n%s\\n' "$t"
    else
      echo content
      if [ "$n" -le ${MAX_CONTENT_BYTES} ] 2>/dev/null; then base64 -- "$p"; else head -c ${MAX_CONTENT_BYTES + 1} -- "$p" | base64; fi
    fi
    t= l=
  fi`
    : raw('');
  // Inline (no subshell): the stat line comes from the gather's one `stat` over every file fact's
  // path (see statPrelude) or, when that has no record of this path, from its own; the size field
  // is cut with parameter expansions, not word splitting.
  return sh`p=${checked}
if [ -e "$p" ] || [ -L "$p" ]; then
  nl='
'
  s="$nl\${${raw(STATS_VAR)}-}"
  case $s in
    *"\${nl}path $p\${nl}stat "*) s=\${s#*"\${nl}path $p\${nl}"}; s=\${s%%"$nl"*} ;;
    *) s=$(stat -c ${STAT_FORMAT} -- "$p") || s='' ;;
  esac
  if [ -n "$s" ]; then printf '%s\n' "$s"; fi
  if [ -L "$p" ]; then printf 'target %s\n' "$(readlink -- "$p")"; fi${content}
else
  echo absent
fi
echo end`.script;
};

// fileFact and fileInfoFact differ only in the content section and the fact id's prefix.
const statFact = <T>(
  path: string,
  argName: string,
  idPrefix: string,
  withContent: boolean,
  parse: (id: string, output: string) => T,
): Fact<T> => {
  const checked = parseArgs(absolutePathSchema, path, argName);
  const id = `${idPrefix}:${checked}`;
  return {
    id,
    script: fileScript(checked, withContent),
    inline: true,
    prelude: { key: 'file.stat', arg: checked, script: statPrelude },
    parse: (output) => parse(id, output),
  };
};

/** Existence, type, uid/gid, owner/group names, mode, size and content of `path` (not following symlinks; a symlink's target). */
export const fileFact = (path: string): Fact<FileState> =>
  statFact(path, 'fileFact.path', 'file.stat', true, (id, output) => parseFileState(id, output));

/** fileFact without the content: existence, type, owner, group, mode, size (and a symlink's target). */
export const fileInfoFact = (path: string): Fact<FileInfo> =>
  statFact(path, 'fileInfoFact.path', 'file.info', false, (id, output) => parseFileState(id, output, false));

/** The casfleet backups of `path` (see backup-name.ts), oldest first. */
export const backupsFact = (path: string): Fact<readonly FileBackup[]> => {
  const checked = parseArgs(absolutePathSchema, path, 'backupsFact.path');
  const id = `file.backups:${checked}`;
  const dir = backupDirFor(checked);
  const base = posix.basename(checked);
  // The glob stays literal when nothing matches; `[ -f ]` filters that case out. A symlink is never
  // a backup: restoring through one would copy whatever it points at.
  const script = sh`for f in ${dir}/${base}.*; do [ -f "$f" ] && [ ! -L "$f" ] && printf 'backup %s\\n' "\${f##*/}"; done
echo end`.script;
  const parse = (output: string): readonly FileBackup[] => {
    const backups: FileBackup[] = [];
    for (const line of factLines(id, output)) {
      const [word, name] = splitWord(line);
      if (word !== 'backup' || name === '') throw new FactError(`${id}: unexpected line "${line}"`);
      const backup = parseBackupName(checked, name);
      if (backup) backups.push(backup);
    }
    return backups.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  };
  return { id, script, inline: true, parse };
};
