// The rule files' transfer run for real in bash (its `read -N`, no process) and dash (dd), and from
// a chained frame's variables (printf) in both: what arrives is written byte for byte, each file
// exactly its length and nothing of the next, with the mode of the file it replaces, and a transfer
// cut short fails before anything is written in full.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { partsInFrame } from '../../src/command/stdin-parts.ts';
import { receiveRuleFiles } from '../../src/steps/ufw-file-write.ts';

const SHELLS = ['/bin/sh', 'bash'].filter((shell) => spawnSync(shell, ['-c', 'true']).status === 0);
const dir = mkdtempSync(join(tmpdir(), 'casfleet-ufw-receive-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// What ufw writes: lines with spaces and quotes, a blank line, a trailing newline; and a backslash.
const first =
  '*filter\n:ufw-user-input - [0:0]\n\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n-A ufw-after-logging-input -j LOG --log-prefix "[UFW BLOCK] "\nCOMMIT\n';
const second = '  leading spaces, a \\ backslash, trailing spaces  \n*filter\nCOMMIT\n';

// The files the new ones replace: ufw's own mode, and one a hand made private.
const olds = [join(dir, 'user.rules'), join(dir, 'user6.rules')];
writeFileSync(olds[0] ?? '', 'old\n', { mode: 0o640 });
writeFileSync(olds[1] ?? '', 'old\n');
chmodSync(olds[1] ?? '', 0o600);

/** The files received by `shell` from `stdin`, or, given `frame`, from the variables a chained frame sets first. */
const receive = (shell: string, name: string, stdin: string, frame = '') => {
  const t0 = join(dir, `${name}.0`);
  const t1 = join(dir, `${name}.1`);
  const files = [first, second].map((content, index) => ({ content, path: olds[index] ?? '' }));
  const script = `set -u\numask 022\n${frame}fail() { echo "failed: $*"; exit 1; }\nt0='${t0}'\nt1='${t1}'\n${receiveRuleFiles(files).script}\necho done`;
  const result = spawnSync(shell, ['-c', script], { input: stdin, encoding: 'utf8' });
  return {
    result,
    files: () => [readFileSync(t0, 'latin1'), readFileSync(t1, 'latin1')],
    modes: () => [statSync(t0).mode & 0o7777, statSync(t1).mode & 0o7777],
  };
};

for (const shell of SHELLS) {
  test(`${shell}: each file gets exactly its bytes and the mode of the one it replaces`, (t) => {
    const { result, files, modes } = receive(shell, `${shell.replaceAll('/', '')}-whole`, `${first}${second}`);
    t.is(result.stdout, 'done\n', result.stderr);
    t.deepEqual(files(), [first, second]);
    t.deepEqual(modes(), [0o640, 0o600], 'the modes of the files they replace');
  });

  test(`${shell}: in a chained frame each file is its variable, byte for byte, and stdin is not read`, (t) => {
    const frame = partsInFrame({ parts: [first, second] }) ?? '';
    const { result, files, modes } = receive(shell, `${shell.replaceAll('/', '')}-frame`, 'not the content\n', frame);
    t.is(result.stdout, 'done\n', result.stderr);
    t.deepEqual(files(), [first, second]);
    t.deepEqual(modes(), [0o640, 0o600]);
  });

  test(`${shell}: a transfer cut short fails`, (t) => {
    const { result } = receive(shell, `${shell.replaceAll('/', '')}-cut`, `${first}${second.slice(0, 10)}`);
    t.is(result.status, 1);
    t.regex(result.stdout, /failed: the new rule files arrived incomplete/);
  });
}
