// The exec kept open for a host's changes (exec-chain.ts): the loop's framing with the real /bin/sh,
// and a HostSession whose changes go through it (tests' local connection: the same scripts, no SSH;
// the lab tests run them over real SSH).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import { IN_FRAME, partRef } from '../../src/command/stdin-parts.ts';
import type { Fact } from '../../src/facts/fact.ts';
import { chainedResult, chainFrame, thenChain, withInput } from '../../src/run/exec-chain.ts';
import { HostSession } from '../../src/run/host-session.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const RS = '\u001e';
/** What the loop printed: the begin's output, its status, then each command's output and status. */
const steps = (stdout: string): string[] => stdout.split(new RegExp(`\n${RS}casfleet-status (\\d+)\n${RS}casfleet-hold\n`));
// The two loops: dash reads the frames as its script; a gather shell that is bash (where bash is
// /bin/sh) starts the loop that reads each frame with head (run here by /bin/sh).
const LOOPS = [
  { name: 'sh -s', shell: '/bin/sh' },
  { name: 'head', shell: 'bash' },
].filter(({ shell }) => spawnSync(shell, ['-c', 'true']).status === 0);
/** The chain started after `begin` by `shell`, fed `input` at once. */
const chain = (shell: string, input: string, begin = 'echo begun') =>
  spawnSync(shell, ['-c', thenChain(begin)], { input, encoding: 'utf8', timeout: 10_000 });

for (const { name, shell } of LOOPS) {
  test(`${name}: the loop runs each complete frame in turn, stdin /dev/null, and prints its status and the hold after each`, (t) => {
    const run = chain(
      shell,
      chainFrame('echo one; cat; exit 3') + chainFrame("printf 'two €\\n'; left=frame") + chainFrame(`echo "[\${left-unset}]"`),
    );
    t.is(run.status, 0, 'EOF ends the loop');
    t.deepEqual(steps(run.stdout), ['begun\n', '0', 'one\n', '3', 'two €\n', '0', '[unset]\n', '0', '']);
  });

  test(`${name}: a frame cut short is never run`, (t) => {
    const frame = chainFrame('echo ran; echo more');
    // Anywhere in the script, right after it, or right before the closing brace.
    const closing = frame.lastIndexOf('\n}\n');
    for (const at of [10, frame.indexOf('more'), frame.indexOf(') </dev/null'), closing, closing + 1]) {
      const short = chain(shell, frame.slice(0, at));
      t.not(short.status, 0, `cut at ${at}`);
      t.false(short.stdout.includes('ran'), `cut at ${at}`);
    }
  });

  test(`${name}: a begin that fails ends the exec with its status: no chain`, (t) => {
    const run = chain(shell, chainFrame('echo ran'), 'echo failed >&2; exit 3');
    t.is(run.status, 3);
    t.false(run.stdout.includes('ran'));
    t.false(run.stdout.includes('casfleet-hold'));
  });
}

test('head: a frame whose length is not a number, or says less than the frame is, is never run', (t) => {
  const frame = chainFrame('echo ran');
  const garbled = chain('bash', frame.replace(/^: /, ': 12x'));
  t.is(garbled.status, 4);
  t.false(garbled.stdout.includes('ran'));
  const lying = chain('bash', frame.replace(/^: \d+/, ': 5'));
  t.is(lying.status, 4);
  t.false(lying.stdout.includes('ran'));
});

test('what a chained command reads on stdin is exactly its here-document; content that a here-document would change is refused', (t) => {
  const script = withInput('( cat )', 'a\n$HOME `x` \\n\nlast\n');
  t.truthy(script);
  const run = chain('/bin/sh', chainFrame(script ?? ''));
  t.is(steps(run.stdout)[2], 'a\n$HOME `x` \\n\nlast\n');
  t.is(withInput('( cat )', 'no newline at the end'), undefined);
});

test('a chained result is what the command printed, its status from the status line', (t) => {
  t.deepEqual(chainedResult({ stdout: 'out\n\n\u001ecasfleet-status 3', stderr: 'err\n\n' }), {
    stdout: 'out\n',
    stderr: 'err\n',
    code: 3,
  });
  t.deepEqual(chainedResult({ stdout: 'no status', stderr: '' }), { stdout: 'no status', stderr: '', code: null });
});

// A fact whose shell variable a change would see, were it run in the gather's shell.
const leavesVariable: Fact<string> = { id: 'var', script: 'left=gather; echo ok', parse: (output) => output.trim(), inline: true };

test("after the begin, the session's changes run in the gather's exec, each in a shell of its own, until the chain ends", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-chain-'));
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const held = await session.gatherHeld([leavesVariable], { begin: sh`umask 077; echo armed` }, 'begin');
  t.deepEqual(held.facts.get('var'), { ok: true, value: 'ok' });
  t.like(await held.answer('begin'), { stdout: 'armed\n', code: 0 });
  const file = join(dir, 'written');
  const write = await session.apply(sh`cat > ${file}; echo "[\${left-unset}] $(umask)"`, 'new content\n', []);
  t.is(write.status, 0);
  t.is(readFileSync(file, 'utf8'), 'new content\n');
  const umask = spawnSync('/bin/sh', ['-c', 'umask'], { encoding: 'utf8' }).stdout.trim();
  t.not(umask, '0077');
  t.is(write.output, `[unset] ${umask}`, "neither the gather's variables nor the begin's umask");
  const failed = await session.apply(sh`echo "cannot" >&2; exit 5`, undefined, []);
  t.like(failed, { status: 5, output: 'cannot' });
  t.is(connection.scripts.length, 1, 'one exec so far');
  // Content that must not gain a newline goes over an exec of its own; the chain goes on after it.
  t.like(await session.apply(sh`cat`, 'no newline', []), { status: 0, output: 'no newline' });
  t.is(connection.scripts.length, 2);
  t.like(await session.apply(sh`echo chained`, undefined, []), { status: 0, output: 'chained' });
  t.is(connection.scripts.length, 2);
  await session.endChain();
  t.like(await session.apply(sh`echo after`, undefined, []), { status: 0, output: 'after' });
  t.is(connection.scripts.length, 3, 'once the chain ended, an exec per change');
});

test('input in parts travels in the chained frame as variables, not on stdin; over an exec of its own it comes on stdin', async (t) => {
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const held = await session.gatherHeld([], { begin: sh`echo armed` }, 'begin');
  t.like(await held.answer('begin'), { code: 0 });
  // What a reader of the parts does: the variables in a frame, else stdin.
  const reader = sh`if ${IN_FRAME}; then printf '[%s|%s]' ${partRef(0)} ${partRef(1)}; else printf 'stdin:'; cat; fi`;
  const parts = { parts: ["it's $HOME `x`\n", 'no newline at the end'] };
  t.like(await session.apply(reader, parts, []), { status: 0, output: "[it's $HOME `x`\n|no newline at the end]" });
  t.is(connection.scripts.length, 1, 'chained, even without a final newline');
  t.like(await session.apply(reader, { parts: ['a NUL \0 byte'] }, []), { status: 0, output: 'stdin:a NUL \0 byte' });
  t.is(connection.scripts.length, 2, 'a part a shell variable cannot hold goes over an exec of its own');
  await session.endChain();
  t.like(await session.apply(reader, parts, []), { status: 0, output: "stdin:it's $HOME `x`\nno newline at the end" });
});

test('a begin that fails leaves no chain: the changes get execs of their own', async (t) => {
  const connection = createLocalConnection();
  const session = new HostSession(connection, { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  const held = await session.gatherHeld([], { begin: sh`echo nope >&2; exit 3` }, 'begin');
  t.like(await held.answer('begin'), { stderr: 'nope\n', code: 3 });
  t.like(await session.apply(sh`echo own`, undefined, []), { status: 0, output: 'own' });
  t.is(connection.scripts.length, 2);
});
