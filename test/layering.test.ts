// The architecture's import rules, checked: planning code stays pure, and only src/ssh/ speaks SSH.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]!);

// Folders whose code only computes: no file system, processes, network, SSH, runner or CLI.
const PURE = ['facts', 'steps', 'rollout', 'command', 'cas', 'report', 'host-timer', 'transaction'];
const FORBIDDEN_IN_PURE = [/^node:(fs|child_process|net|dgram|worker_threads)/, /\/(ssh|run|cli|lab)\//, /^(ssh2|node-ssh)$/];

test('planning folders import no I/O and no runner, SSH or CLI code', (t) => {
  const offences = PURE.flatMap((folder) =>
    sourceFiles(join(SRC, folder)).flatMap((file) =>
      importsOf(file)
        .filter((specifier) => FORBIDDEN_IN_PURE.some((pattern) => pattern.test(specifier)))
        .map((specifier) => `${relative(SRC, file)} imports ${specifier}`),
    ),
  );
  t.deepEqual(offences, []);
});

test('only src/ssh/ imports ssh2 or node-ssh', (t) => {
  const offences = sourceFiles(SRC)
    .filter((file) => !relative(SRC, file).startsWith('ssh/'))
    .flatMap((file) => importsOf(file).filter((specifier) => /^(ssh2|node-ssh)$/.test(specifier)).map((s) => `${relative(SRC, file)} imports ${s}`));
  t.deepEqual(offences, []);
});
