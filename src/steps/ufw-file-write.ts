// A plan's rule changes without ufw's python: the controller computes the new user.rules /
// user6.rules (ufw-rules-file.ts) from the simulated final rule lists, sends them (receiveRuleFiles),
// and the host writes them atomically and, when ufw's chains are running, loads each written
// family once with `ip[6]tables-restore -n` (the load ufw-batch.ts's header explains; ufw's own
// reload of the user chains does the same). A file is written only when an operation touches its
// family, as ufw writes a family's file only then, or when its rule lines are not its tuples'
// (ufw-rule-lines.ts: then it is written from the tuples first, even before a default policy change
// or a reload, which python makes). The python batch stays the fallback (the function returns
// NOT_VERIFIED having changed nothing), except for such a repair, when:
// - the host's ufw is not the verified 0.36.2 (checksums of the python files the writer mirrors);
// - its settings are not those the content was computed from (IPv6, LOGLEVEL, default policies,
//   compared as ufw writes them, upper-case policies), or its tuple lines are not those the plan
//   saw (a rule changed since the facts were read: python then does what it did before);
// and on the controller (planUfwFileWrite returns undefined) for a plan that changes the default
// policy or reloads ufw (ufw also rewrites after*.rules and restarts the firewall), or holds a rule
// shape the writer does not mirror (writerProblem in ufw-rules-file.ts), or a file that would not be
// plain printable ASCII (it travels unencoded).
// The transaction snapshots both files before the step runs (ufw-rules.ts `touches`), so the write
// keeps no backup of its own; owner and mode are those of the file it replaces (ufw keeps them too:
// shutil.copystat). Unlike ufw, the shell cannot take ufw's lock (/run/ufw.lock is an fcntl
// lock, which flock(1) does not see): a `ufw` command run by hand in the same instant could
// interleave with the write, as with the enable of ufw-enable.ts.

import { joinCommands, type RemoteCommand, raw, sh } from '../command/shell.ts';
import { IN_FRAME, partRef, type StdinParts } from '../command/stdin-parts.ts';
import { UFW_RULE_FILES, type UfwFileFormat, type UfwState } from '../facts/ufw.ts';
import { TUPLE_PREFIX, type UfwFamily, type UfwRule } from '../facts/ufw-tuple.ts';
import { exclusiveCreate } from './remote-file.ts';
import { NOT_VERIFIED, UFW_VERIFIED_FUNCTION, verifiedUfwFilesTest } from './ufw-enable.ts';
import type { UfwOp } from './ufw-reconcile.ts';
import type { RuleLinesMismatch } from './ufw-rule-lines.ts';
import { tupleLine, ufwRulesFileText, writerProblem } from './ufw-rules-file.ts';

export interface UfwFileToWrite {
  readonly family: UfwFamily;
  readonly path: string;
  readonly content: string;
  /** The `### tuple ###` lines the plan saw in the file. */
  readonly before: readonly string[];
  readonly ruleCount: number;
}

export interface UfwFileWrite {
  readonly files: readonly UfwFileToWrite[];
  /** ufw's chains are running (no enable follows): load each written file into them. */
  readonly load: boolean;
  readonly ipv6: boolean;
  readonly format: UfwFileFormat;
  /**
   * Set when a file is written because its rule lines differ from its tuples (ufw-rule-lines.ts):
   * then ufw's python is no fallback (it would load the file as it is), and the write is refused instead.
   */
  readonly repair?: string;
}

/** What `receiveRuleFiles` can send unencoded: ufw writes nothing else (tuple comments are hex). */
const PLAIN_TEXT = /^[\n\x20-\x7e]*$/;

/** The files writing replaces the python batch with, or undefined when ufw's python must do it (see above). */
export const planUfwFileWrite = (
  ufw: UfwState,
  ops: readonly UfwOp[],
  final: Readonly<Record<UfwFamily, readonly UfwRule[]>>,
  load: boolean,
  repairs: readonly RuleLinesMismatch[] = [],
): UfwFileWrite | undefined => {
  const format = ufw.fileFormat;
  if (format === null || (ops.length === 0 && repairs.length === 0)) return undefined;
  const families = (['v4', 'v6'] as const).filter(
    (family) =>
      (family === 'v4' || ufw.ipv6) &&
      (repairs.some((repair) => repair.family === family) || ops.some((op) => op.family === family || op.family === 'both')),
  );
  const rules = families.flatMap((family) => [...ufw.rules[family], ...final[family]].map((rule) => ({ rule, family })));
  if (rules.some(({ rule, family }) => writerProblem(rule, family, format) !== undefined)) return undefined;
  const files = families.map((family) => ({
    family,
    path: UFW_RULE_FILES[family],
    content: ufwRulesFileText(family, final[family], format),
    before: ufw.rules[family].map(tupleLine),
    ruleCount: final[family].length,
  }));
  if (!files.every((file) => PLAIN_TEXT.test(file.content))) return undefined;
  return {
    files,
    load,
    ipv6: ufw.ipv6,
    format,
    ...(repairs.length > 0
      ? { repair: repairs.map(({ path, detail }) => `the rule lines of ${path} differ from its tuples (${detail})`).join('; ') }
      : {}),
  };
};

const PYTHON_FILES = ['backend_iptables.py', 'backend.py', 'common.py'].map((name) => `/usr/lib/python3/dist-packages/ufw/${name}`);

const settingsLine = ({ ipv6, format }: UfwFileWrite): string =>
  [ipv6 ? 'yes' : 'no', format.logLevel, format.policies.input, format.policies.output, format.policies.forward]
    .map((value, i) => (i >= 2 ? value.toUpperCase() : value))
    .join(' ');

// The tuple lines of the files to write, from one grep (dash reads a file with `read` one byte per
// system call; the two files are about 5 KB), compared with those the plan saw.
const tupleGuard = (files: readonly UfwFileToWrite[]): RemoteCommand => {
  const seen = files.flatMap((file) => file.before.map((line) => `${file.path}:${line}`)).join('\n');
  const paths = files.map((file) => file.path);
  return sh`have=$(grep -a -H -e ${`^${TUPLE_PREFIX}`} -- ${paths}) || :
  [ "$have" = ${seen} ] || { echo ${`casfleet: the rules in ${paths.join(' or ')} changed since its facts were read: running ufw's python instead`} >&2; return ${raw(String(NOT_VERIFIED))}; }`;
};

/** The quoted shell word of file `index`'s temporary file, `"$t<index>"`, set by tempFor. */
const tempRef = (index: number) => raw(`"$t${index}"`);

// The new file is made next to the old one by the shell, under a name made from the script's PID
// instead of mktemp's (one process less per file): /etc/ufw is root's (exclusiveCreate). It is made 0640 (the ufw_write_files
// umask), ufw's own mode; receiveRuleFiles gives it the old file's owner and mode where they differ.
const tempFor = (file: UfwFileToWrite, index: number): RemoteCommand => {
  const temp = tempRef(index);
  return sh`t${raw(String(index))}=${`/etc/ufw/.${file.path.split('/').pop()}.casfleet.`}$$
  tmps="$tmps $t${raw(String(index))}"
  ${exclusiveCreate(temp, sh`fail ${`cannot create a new ${file.path}`}`)}`;
};

// The contents come in the exec chain as variables of the frame (command/stdin-parts.ts), each
// printed into its file with printf (no process); over an exec of their own they arrive on stdin
// one after the other, as they are (printable ASCII: planUfwFileWrite leaves anything else to ufw's
// python), never on the command line, where a long rule list would pass the kernel's limit for one
// argument. From stdin bash reads each into a variable with `read -N` (exactly its length, no
// process); other shells copy each with dd, fullblock reading exactly its length and nothing of the
// next. Then one stat reads the size, mode and owner of each new file and of the file it replaces:
// a transfer cut short (or a write that failed) leaves a file short of its length, which refuses
// the write before anything is replaced, and a new file gets the old one's owner and mode (ufw keeps
// them: shutil.copystat) only when they differ, so usually with no process. It writes "$t0",
// "$t1"… and calls `fail` (both the writer's).
const INCOMPLETE = 'the new rule files arrived incomplete (transfer cut short?); nothing replaced';

export const receiveRuleFiles = (files: readonly Pick<UfwFileToWrite, 'content' | 'path'>[]): RemoteCommand => {
  const lengths = files.map((file) => file.content.length);
  const prints = lengths.map((_, index) => sh`printf '%s' ${partRef(index)} > ${tempRef(index)}`);
  const reads = lengths.map(
    (length, index) => sh`IFS= read -r -N ${length} c || :
    [ \${#c} -eq ${length} ] || fail ${INCOMPLETE}
    printf '%s' "$c" > ${tempRef(index)} || fail 'cannot write the new rule files'`,
  );
  const copies = lengths.map((length, index) => sh`dd iflag=fullblock bs=${length} count=1 of=${tempRef(index)} 2>/dev/null`);
  // The stat's fields, three a file (size, mode, owner:group): the new files', then the old ones'.
  const field = (file: number, offset: number) => raw(`"\${${3 * file + offset}}"`);
  const checks = files.map((file, index) => {
    const old = files.length + index;
    return sh`[ ${field(index, 1)} = ${lengths[index] ?? 0} ] || fail ${INCOMPLETE}
  [ ${field(index, 2)}:${field(index, 3)} = ${field(old, 2)}:${field(old, 3)} ] || { chown --reference=${file.path} -- ${tempRef(index)} && chmod --reference=${file.path} -- ${tempRef(index)}; } || fail ${`cannot give the new ${file.path} the owner and mode of the old one`}`;
  });
  return sh`if ${IN_FRAME}; then
    { ${joinCommands(prints, ' && ')}; } || fail 'cannot write the new rule files'
  elif [ -n "\${BASH_VERSION-}" ]; then
    ${joinCommands(reads, '\n    ')}
  else
    { ${joinCommands(copies, ' && ')}; } || fail 'cannot read the new rule files from stdin'
  fi
  meta=$(stat -c '%s %a %u:%g' -- ${joinCommands(
    files.map((_, index) => sh`${tempRef(index)}`),
    ' ',
  )} ${files.map((file) => file.path)}) || fail 'cannot read the size, owner and mode of the rule files'
  set -- $meta
  ${joinCommands(checks, '\n  ')}`;
};

/** What the batch reads when it writes `write`'s files, one part a file (see `receiveRuleFiles`). */
export const ufwFileWriteStdin = (write: UfwFileWrite): StdinParts => ({ parts: write.files.map((file) => file.content) });

const loadFor = (file: UfwFileToWrite): RemoteCommand => {
  const exe = file.family === 'v6' ? 'ip6tables-restore' : 'iptables-restore';
  return sh`echo ${`> ${exe} -n < ${file.path}`}
  ${raw(exe)} -n < ${file.path} || { echo ${`casfleet: ${exe} -n < ${file.path} failed`} >&2; return 1; }`;
};

/** Defines the shell function `ufw_write_files` (see above); it changes nothing when it returns NOT_VERIFIED. */
export const ufwFileWriteFunction = (write: UfwFileWrite): RemoteCommand => {
  const { files } = write;
  return sh`ufw_write_files() (
  set -u
  ${raw(UFW_VERIFIED_FUNCTION)}
  ${raw(verifiedUfwFilesTest(PYTHON_FILES))} || { echo "casfleet: not the verified ufw layout for writing its rule files: running ufw's python" >&2; return ${raw(String(NOT_VERIFIED))}; }
  [ -s /etc/default/ufw ] && [ -s /etc/ufw/ufw.conf ] || return ${raw(String(NOT_VERIFIED))}
  IPV6= LOGLEVEL= DEFAULT_INPUT_POLICY= DEFAULT_OUTPUT_POLICY= DEFAULT_FORWARD_POLICY=
  . /etc/default/ufw
  . /etc/ufw/ufw.conf
  v6=no
  [ "$IPV6" = yes ] && [ -d /proc/sys/net/ipv6 ] && v6=yes
  [ "$v6 $LOGLEVEL $DEFAULT_INPUT_POLICY $DEFAULT_OUTPUT_POLICY $DEFAULT_FORWARD_POLICY" = ${settingsLine(write)} ] || { echo "casfleet: ufw's settings changed since its facts were read: running ufw's python" >&2; return ${raw(String(NOT_VERIFIED))}; }
  ${tupleGuard(files)}
  tmps=
  fail() { rm -f -- $tmps; echo "casfleet: $*" >&2; exit 1; }
  umask 027
  set -C
  ${joinCommands(files.map(tempFor), '\n  ')}
  set +C
  ${receiveRuleFiles(files)}
  sync -- $tmps /etc/ufw || fail 'sync failed'
  ${joinCommands(
    files.map((file, index) => sh`mv -fT -- ${tempRef(index)} ${file.path} || fail ${`cannot replace ${file.path}`}`),
    '\n  ',
  )}
  sync -- /etc/ufw
  ${joinCommands(
    files.map((file) => sh`echo ${`wrote: ${file.path} (${file.ruleCount} rules, as ufw writes it)`}`),
    '\n  ',
  )}${write.load ? sh`\n  ${joinCommands(files.map(loadFor), '\n  ')}` : raw('')}
)`;
};

/** What the write does, for people. */
export const ufwFileWriteDisplay = (write: UfwFileWrite): string[] =>
  write.files.flatMap((file) => [
    `# write ${file.path} as ufw writes it (${file.ruleCount} rules)`,
    ...(write.load ? [`${file.family === 'v6' ? 'ip6tables-restore' : 'iptables-restore'} -n < ${file.path}`] : []),
  ]);
