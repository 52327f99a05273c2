// All ufw operations of a plan in ONE remote script, and as little of ufw's python as possible.
// Plain rule changes (add, insert, delete, replace) do not start python at all: the planner hands
// the batch the new user.rules / user6.rules, computed on the controller exactly as ufw writes them
// (ufw-rules-file.ts), and the host writes them atomically and loads them once per family
// (ufw-file-write.ts). Python runs only as that writer's fallback (another ufw version, settings or
// rules that changed since the facts were read) and for the operations the writer does not mirror:
// a default policy change or a reload (ufw also rewrites after*.rules and restarts the firewall),
// application rules and the other shapes listed in ufw-rules-file.ts.
//
// When python runs, it is ONE process: ufw is a python program (~0.13 s CPU per run, mostly
// interpreter start, imports and capability probes). The batch imports ufw's own frontend and
// does, per operation, exactly what /usr/sbin/ufw's main() does: `ufw.frontend.parse_command(argv)` then `ui.do_action(action, rule, iptype, force)`, under
// the same lock (/run/ufw.lock), with the same security checks (sys.argv[0] is set to the ufw
// binary). One UFWFrontend serves the whole batch: ufw updates its in-memory rules and settings as
// it writes them (backend.set_rule/set_default), so later operations see earlier ones.
// If the import fails (another ufw layout, no python3), the same operations run as `ufw` commands.
// An enable, always the last operation, runs without python (ufw-enable.ts: one ip[6]tables-restore
// per family) after the batch, unless the host is not the verified ufw layout: then it runs as
// `ufw --force enable`. A plan that only enables starts no python at all.
//
// In python, ufw writes user.rules / user6.rules itself (copied over the old one), but the running chains are loaded ONCE per family, after the last rule operation:
// while enabled, ufw's backend would otherwise, per rule, list its chains (5 `iptables -L` per
// family) and then either run `iptables` per rule line or reload: flush and zero the logging
// chains (12 `iptables` runs) and pipe both files through `cat` into `iptables-restore -n`. The
// batch stands in for that reload with `iptables-restore -n < user.rules` (and ip6tables for
// user6.rules): the file declares every ufw-user-* chain, and a declared chain that exists is
// flushed by a no-flush restore, so the result is ufw's own reload in one atomic commit per family
// (the kernel goes from the old rule set to the new one with nothing in between). The load runs at
// the end, also after a failed operation, so files and kernel never disagree when it exits. A
// non-rule operation cancels what is pending: the planner emits `default`, `reload` and `enable`
// only where they restart the firewall from the files anyway, and loading before an enable would
// even break it (ufw-init skips its start when ufw-user-input exists: "already started"); so when
// the enable follows the batch (outside python, see below) and every operation succeeded, nothing
// is loaded.
//
// Measured on the lab (ufw 0.36.2, python 3.11, shared 2 vCPUs), CPU of the batch's processes:
// - Scenario A's first apply (8 rules, default policy, enable): ~0.22 s, most of it `ufw enable`
//   (ufw-init start and the logging rules, ~0.2 s alone; since replaced by ufw-enable.ts, whose
//   path is a dozen processes instead of ~250);
// - A→B and back on an enabled firewall (3 rule operations): 0.22 s per switch with a reload per
//   rule, 0.07-0.08 s with one load per family; the rule-file writer since needs no python at all.
// (For comparison the ufw fact costs ~1.5 ms per read; `ufw status` ~64 ms on the same machine.)
//
// ufw behaviour this step relies on (verified empirically, ufw 0.36.2):
// - `ufw --force enable`, `ufw reload` and `ufw default …` (which stops and starts the firewall when
//   enabled) do NOT flush rules inserted directly into INPUT or the nat table while
//   MANAGE_BUILTINS=no (the default); with MANAGE_BUILTINS=yes ufw flushes the built-in chains. GB
//   requires re-applying /batm/vpngen/firewall.rules "if you manually restart your firewall" [C] TVPN,
//   so the batch re-sources it after an enable or a policy change; if CAS's file is not idempotent
//   that may duplicate its rules (harmless) — losing them would take every terminal offline.
// - `ufw default X incoming` rewrites the file and restarts the firewall even when X is already the
//   policy, so the planner only emits it when the policy differs (anchors.md §2.3).
// - rule operations while enabled reload only the ufw-user-* chains (here: once, at the end).
//
// Both run as root, so neither may pick up code someone else put in their way:
// - python runs isolated (`-I`: no current directory or script directory on the import path, no
//   user site-packages, no PYTHON* variables) from `/`; without it the login user's home, the
//   current directory of an ssh exec, came first on the path and a json.py there ran as root.
// - /batm/vpngen/firewall.rules is sourced only if it is a regular file (not a symlink) owned by
//   root or a batm account (CAS's services run as batm users [I]) in a directory owned the same
//   way, neither writable by everyone. It is checked before the first ufw operation, so a host
//   whose file fails the check is left untouched, and again right before it is sourced.
import { joinCommands, quote, type RemoteCommand, raw, sh } from '../command/shell.ts';
import { UFW_FOUND } from '../facts/ufw.ts';
import { NOT_VERIFIED, UFW_CKSUMS_ONCE, ufwDirectEnableFunction } from './ufw-enable.ts';
import { type UfwFileWrite, ufwFileWriteDisplay, ufwFileWriteFunction } from './ufw-file-write.ts';
import { REAPPLY_VPNGEN_DISPLAY, reapplyVpngenSnippet, vpngenPrecheckSnippet } from './vpngen-rules.ts';

/** Exit status of the batch when ufw's python modules cannot be imported: fall back to the CLI. */
const NO_UFW_MODULE = 111;

const PROGRAM = `import sys
try:
    import gettext, json, os, subprocess
    import ufw.common
    import ufw.frontend
    from ufw.common import UFWError
    from ufw.util import create_lock, release_lock, msg, error
except Exception as e:
    sys.stderr.write("casfleet: cannot import ufw (%s)\\n" % e)
    sys.exit(${NO_UFW_MODULE})
gettext.install(ufw.common.programName)
ufw_bin, ops, enable_follows = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "enable-follows"
sys.argv = [ufw_bin]
lockfile = "/run/ufw.lock"
if os.getuid() != 0 or "TESTSTATE" in os.environ:
    lockfile = os.path.join(ufw.common.state_dir, "ufw.lock")
lock = create_lock(lockfile=lockfile)
ui = None
stale = []
def defer_reload(v6=None):
    stale.append(True)
    return True
def load_user_chains():
    if not stale:
        return
    del stale[:]
    b = ui.backend
    todo = [(b.iptables_restore, b.files["rules"])]
    if b.use_ipv6():
        todo.append((b.ip6tables_restore, b.files["rules6"]))
    for exe, path in todo:
        msg("> %s -n < %s" % (exe, path))
        with open(path, "rb") as f:
            if subprocess.call([exe, "-n"], stdin=f) != 0:
                raise UFWError("problem running %s -n < %s" % (exe, path))
try:
    try:
        for argv in ops:
            msg("> ufw " + " ".join(argv))
            pr = ufw.frontend.parse_command([ufw_bin] + argv)
            if ui is None:
                ui = ufw.frontend.UFWFrontend(pr.dryrun)
                if not pr.dryrun:
                    ui.backend._need_reload = defer_reload
                    ui.backend._reload_user_rules = defer_reload
            if "rule" in pr.data:
                res = ui.do_action(pr.action, pr.data["rule"], pr.data["iptype"], pr.force)
            else:
                del stale[:]
                res = ui.do_action(pr.action, "", "", pr.force)
            if res != "":
                msg(res)
        if enable_follows:
            del stale[:]
    finally:
        if ui is not None:
            load_user_chains()
except UFWError as e:
    error(e.value)
finally:
    release_lock(lock)
`;

export interface UfwBatchOptions {
  /** Re-source /batm/vpngen/firewall.rules (when it exists) after the batch: an enable or restart happened. */
  readonly reapplyVpngen: boolean;
  /** The rule operations as files written without python (ufw-file-write.ts); the python batch is their fallback. */
  readonly files?: UfwFileWrite;
  /** The files only repair (files.repair): every operation still runs in python once they are written. */
  readonly pythonAfterFiles?: boolean;
}

const ENABLE = ['--force', 'enable'];
const isEnable = (words: readonly string[] | undefined): boolean => words !== undefined && words.join(' ') === ENABLE.join(' ');

/** The python batch of `operations` (falling back to ufw commands), setting rc; nothing when there are none. */
const pythonBatch = (operations: readonly (readonly string[])[], enableFollows: boolean): RemoteCommand => {
  if (operations.length === 0) return sh``;
  const fallback = joinCommands(
    operations.map((words) => sh`ufw ${words}`),
    ' &&\n  ',
  );
  return sh`ufw_bin=$(command -v ufw)
py=$(sed -n '1s/^#![[:space:]]*//p' "$ufw_bin")
$py -I -c ${PROGRAM} "$ufw_bin" ${JSON.stringify(operations)} ${enableFollows ? 'enable-follows' : 'load'} || rc=$?
case $rc in
${raw(String(NO_UFW_MODULE))}|126|127)
  echo "casfleet: ufw's python modules are not importable (exit $rc): running ufw commands one by one" >&2
  rc=0
  { ${fallback}; } || rc=$? ;;
esac
`;
};

/** The rule operations as written files when planned so, falling back to the python batch; else the batch. */
const ruleOperations = (
  operations: readonly (readonly string[])[],
  enableFollows: boolean,
  files: UfwFileWrite | undefined,
  pythonAfterFiles: boolean,
): RemoteCommand => {
  if (!files) return pythonBatch(operations, enableFollows);
  // stdin holds the files for the writer, not answers to ufw's questions.
  const python = sh`exec </dev/null
${pythonBatch(operations, enableFollows)}`;
  const fallback = files.repair
    ? sh`  echo ${`casfleet: ${files.repair}; not the verified ufw layout, so casfleet cannot rewrite it, and ufw's python would load it as it is: nothing changed`} >&2
  rc=1
`
    : sh`  rc=0
${python}`;
  const after =
    pythonAfterFiles && operations.length > 0
      ? sh`elif [ $rc = 0 ]; then
${python}`
      : raw('');
  return sh`${ufwFileWriteFunction(files)}
ufw_write_files || rc=$?
if [ $rc = ${NOT_VERIFIED} ]; then
${fallback}${after}fi
`;
};

/** The enable (last operation) without python when the host is the verified ufw layout (ufw-enable.ts). */
const directEnable = (): RemoteCommand => sh`${ufwDirectEnableFunction()}
if [ $rc = 0 ]; then
  ufw_direct_enable || {
    rc=$?
    if [ $rc = ${NOT_VERIFIED} ]; then
      echo "casfleet: not the verified ufw layout for enabling without python: running ufw --force enable" >&2
      rc=0
      ufw ${ENABLE} || rc=$?
    fi
  }
fi
`;

/** One remote script running every ufw operation (`argv` after `ufw`) in order: batched in python, the enable without. */
export const ufwBatchCommand = (operations: readonly (readonly string[])[], options: UfwBatchOptions): RemoteCommand => {
  const enable = isEnable(operations.at(-1));
  const reapply = options.reapplyVpngen ? reapplyVpngenSnippet('a ufw restart') : raw('');
  const precheck = options.reapplyVpngen
    ? sh`${vpngenPrecheckSnippet('change the firewall', 'ufw restarts')}
`
    : raw('');
  const script = sh`PATH="$PATH:/usr/sbin:/sbin"
cd /
${precheck}${raw(UFW_FOUND)}
[ $ufw_found = yes ] || { echo 'casfleet: ufw is not installed' >&2; exit 1; }
rc=0
${enable || options.files ? raw(`# The writer's and the enable's checks of ufw's files share one cksum, taken here (their functions are subshells).\nunset ufw_cksums\n${UFW_CKSUMS_ONCE}\n`) : raw('')}${ruleOperations(enable ? operations.slice(0, -1) : operations, enable, options.files, options.pythonAfterFiles === true)}${enable ? directEnable() : raw('')}${reapply}
exit $rc`;
  // The display keeps the operations readable instead of the python program.
  return {
    script: script.script,
    display: [
      ...(options.files ? ufwFileWriteDisplay(options.files) : []),
      options.files
        ? `# ufw's python runs these instead on a host that is not the verified ufw layout (they fall back to ufw commands):`
        : `# ufw batch (python3 with ufw's frontend, the enable without python; falls back to these commands):`,
      ...operations.map((words) => `ufw ${words.map(quote).join(' ')}`),
    ]
      .concat(options.reapplyVpngen ? [REAPPLY_VPNGEN_DISPLAY] : [])
      .join('\n'),
  };
};
