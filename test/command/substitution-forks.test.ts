// Remote scripts run under bash over SSH, and bash 5.2 forks twice for a command substitution whose
// one external command carries a redirection (`$(stat … 2>/dev/null)`: a subshell, then the
// command), once with `exec` in front. Every fork is CPU on the host, in every run. Checked on the
// sources, for the external commands the scripts use; then for real in the bash of this machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
// The lab builds hosts here (not scripts casfleet sends), the completion runs in the user's shell.
const NOT_REMOTE = ['lab/', 'completion/'];
const EXTERNAL = new Set(
  'awk base64 cat cksum cp date dd find getent grep head id ip ip6tables ip6tables-save iptables iptables-save ls mktemp readlink sed sha256sum stat sysctl tail timeout tr wc'.split(
    ' ',
  ),
);

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

/** `$(command …)` whose command is external and whose text up to its `)` redirects, without exec, as file:line. */
const forkingSubstitutions = (file: string, text: string): string[] =>
  [...text.matchAll(/\$\(([a-z0-9-]+)([^()]*)\)/g)].flatMap((match) => {
    const [, command = '', rest = ''] = match;
    if (!EXTERNAL.has(command) || !/[<>]/.test(rest) || /[|;&]/.test(rest.replaceAll('2>&1', ''))) return [];
    return [`${relative(SRC, file)}:${text.slice(0, match.index).split('\n').length}: $(${command}${rest})`];
  });

test('no remote command substitution of one external command with a redirection forks twice (exec in front)', (t) => {
  const found = sourceFiles(SRC)
    .filter((file) => !NOT_REMOTE.some((dir) => relative(SRC, file).startsWith(dir)))
    .flatMap((file) => forkingSubstitutions(file, readFileSync(file, 'utf8')));
  t.deepEqual(found, []);
});

test('the checker finds the forking form and passes the exec form', (t) => {
  t.deepEqual(forkingSubstitutions(join(SRC, 'x.ts'), 'a\ns=$(stat -c %u -- "$p" 2>/dev/null)'), [
    'x.ts:2: $(stat -c %u -- "$p" 2>/dev/null)',
  ]);
  t.deepEqual(forkingSubstitutions(join(SRC, 'x.ts'), 's=$(exec stat -c %u -- "$p" 2>/dev/null) s=$(stat -c %u -- "$p")'), []);
});

// strace comes with scripts/install-system-deps.sh.
const forksOf = (script: string): number => {
  const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=clone,clone3,fork,vfork', 'bash', '-c', `${script}; :`], {
    encoding: 'utf8',
  });
  if (traced.error) throw traced.error;
  return traced.stderr.split('\n').filter((line) => /\b(clone3?|v?fork)\(/.test(line)).length;
};

test('in bash, exec saves the second fork of such a substitution', (t) => {
  t.is(forksOf('x=$(/bin/true 2>/dev/null)'), 2);
  t.is(forksOf('x=$(exec /bin/true 2>/dev/null)'), 1);
});
