// Shell completion, run in the real shells: bash's function with COMP_WORDS set as bash sets them,
// fish's own `complete -C`, and zsh's function with the completion builtins replaced by printers
// (zsh offers no way to ask for completions without a terminal). Commands and flags must come from
// the registry and each command's own option table; hosts and playbooks from casfleet itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { completionSpecs } from '../../src/cli/completion-command.ts';
import { COMMANDS, isHiddenCommand } from '../../src/cli/main.ts';
import { describeCommandLine, parseCommandLine } from '../../src/cli/parse-options.ts';
import { bashCompletion } from '../../src/completion/bash-completion.ts';
import { fishCompletion } from '../../src/completion/fish-completion.ts';
import { zshCompletion } from '../../src/completion/zsh-completion.ts';
import { CLI, runCli } from '../helpers/cli.ts';

const FLEET = fileURLToPath(new URL('../fixtures/inventory/fleet/inventory.yml', import.meta.url));
const FLEET_NAMES = ['bastion', 'cas-01', 'cas-02', 'cas-03', 'cas-04', 'cas-05', 'all', 'eu', 'canary', 'us', 'staging', 'ungrouped'];

// A `casfleet` on PATH for the scripts' dynamic candidates, and private lab and run folders.
const work = mkdtempSync(join(tmpdir(), 'casfleet-completion-'));
const bin = join(work, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'casfleet'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
chmodSync(join(bin, 'casfleet'), 0o755);
const labDir = join(work, 'labs');
mkdirSync(join(labDir, 'rehearsal'), { recursive: true });
writeFileSync(
  join(labDir, 'rehearsal', 'inventory.yml'),
  'all:\n  hosts:\n    cas-001: {}\n    cas-002: {}\n  children:\n    canary:\n      hosts:\n        cas-001: {}\n',
);
const project = join(work, 'project');
mkdirSync(join(project, 'playbooks'), { recursive: true });
writeFileSync(join(project, 'playbooks', 'mine.ts'), '');
const ENV = { ...process.env, PATH: `${bin}:${process.env.PATH}`, CASFLEET_LAB_DIR: labDir, CASFLEET_STATE_DIR: join(work, 'state') };

const hasShell = (shell: string): boolean => spawnSync(shell, ['-c', 'true']).status === 0;

const words = (output: string): string[] => output.split('\n').filter(Boolean);

/** Candidates bash offers for a command line; the cursor is on its last word. */
const bash = (script: string, line: readonly string[]): string[] =>
  words(
    execFileSync(
      'bash',
      [
        '-c',
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _casfleet; printf '%s\\n' "\${COMPREPLY[@]}"`,
        '_',
        script,
        ...line,
      ],
      {
        cwd: project,
        env: ENV,
        encoding: 'utf8',
      },
    ),
  );

/** Candidates fish offers for a command line (the text up to the cursor). */
const fish = (script: string, line: string): string[] =>
  words(
    execFileSync('fish', ['-c', 'source $argv[1]; complete -C $argv[2]', script, line], { cwd: project, env: ENV, encoding: 'utf8' }),
  ).map((entry) => entry.split('\t')[0]!);

/** What zsh's function hands to compadd and _files, for a command line; the cursor is on its last word. */
const zsh = (script: string, line: readonly string[]): string[] =>
  words(
    execFileSync(
      'zsh',
      [
        '-f',
        '-c',
        'compdef() { :; }; compset() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print -- "<files $*>"; }; source $1; shift; words=("$@"); CURRENT=$#words; _casfleet',
        '_',
        script,
        ...line,
      ],
      { cwd: project, env: ENV, encoding: 'utf8' },
    ),
  );

const scripts = async () => {
  const specs = await completionSpecs();
  const paths = { bash: join(work, 'casfleet.bash'), zsh: join(work, 'casfleet.zsh'), fish: join(work, 'casfleet.fish') };
  writeFileSync(paths.bash, bashCompletion(specs, '0.0.0'));
  writeFileSync(paths.zsh, zshCompletion(specs, '0.0.0'));
  writeFileSync(paths.fish, fishCompletion(specs, '0.0.0'));
  return paths;
};

/** Every visible command of the registry with the flag words of its own option table. */
const registeredFlags = async (): Promise<Map<string, string[]>> => {
  const flags = new Map<string, string[]>();
  for (const [name, load] of Object.entries(COMMANDS)) {
    if (isHiddenCommand(name)) continue;
    const { options } = await describeCommandLine(await load());
    flags.set(
      name,
      Object.entries(options).flatMap(([long, option]) => [`--${long}`, ...(option.short ? [`-${option.short}`] : [])]),
    );
  }
  return flags;
};

const sorted = (list: readonly string[]): string[] => [...list].sort();

test.serial('every registered command, and every flag of its option table, is completed in bash, zsh and fish', async (t) => {
  // A command registered the way any new one is, to show it needs nothing else to be completed.
  const options = { target: { type: 'string', short: 't' }, dry: { type: 'boolean' } } as const;
  COMMANDS.zzzprobe = async () => async (argv) => {
    parseCommandLine(argv, options, 'zzzprobe', ['one', 'two']);
    return 0;
  };
  try {
    const registered = await registeredFlags();
    t.deepEqual(registered.get('zzzprobe'), ['--target', '-t', '--dry']);
    const paths = await scripts();
    const commands = [...registered.keys()];
    t.deepEqual(sorted(bash(paths.bash, ['casfleet', ''])), sorted([...commands, '--help', '--version']));
    if (hasShell('zsh')) t.deepEqual(sorted(zsh(paths.zsh, ['casfleet', ''])), sorted([...commands, '--help', '--version']));
    if (hasShell('fish')) t.deepEqual(sorted(fish(paths.fish, 'casfleet ')), sorted(commands));
    for (const [command, flags] of registered) {
      t.deepEqual(sorted(bash(paths.bash, ['casfleet', command, '-'])), sorted(flags), `bash: ${command}`);
      if (hasShell('zsh')) t.deepEqual(sorted(zsh(paths.zsh, ['casfleet', command, '-'])), sorted(flags), `zsh: ${command}`);
      if (hasShell('fish')) t.deepEqual(sorted(fish(paths.fish, `casfleet ${command} -`)), sorted(flags), `fish: ${command}`);
    }
    t.deepEqual(bash(paths.bash, ['casfleet', 'zzzprobe', '']), ['one', 'two']);
  } finally {
    delete COMMANDS.zzzprobe;
  }
});

test.serial('hosts and groups come from the inventory given with -i, also after a comma', async (t) => {
  const paths = await scripts();
  t.deepEqual(sorted(bash(paths.bash, ['casfleet', 'apply', 'scenario-a', '-i', FLEET, '-l', ''])), sorted(FLEET_NAMES));
  t.deepEqual(bash(paths.bash, ['casfleet', 'plan', 'scenario-a', '--inventory', FLEET, '--limit', 'canary,cas-0']), [
    'canary,cas-01',
    'canary,cas-02',
    'canary,cas-03',
    'canary,cas-04',
    'canary,cas-05',
  ]);
  t.deepEqual(sorted(bash(paths.bash, ['casfleet', 'apply', 'scenario-a', '-i', FLEET, '--canary', 's'])), ['staging']);
  if (hasShell('zsh')) t.deepEqual(sorted(zsh(paths.zsh, ['casfleet', 'inventory', '-i', FLEET, '-l', ''])), sorted(FLEET_NAMES));
  if (hasShell('fish')) {
    t.deepEqual(sorted(fish(paths.fish, `casfleet apply scenario-a -i ${FLEET} -l `)), sorted(FLEET_NAMES));
    t.deepEqual(fish(paths.fish, `casfleet apply scenario-a -i ${FLEET} -l eu,cas-0`), [
      'eu,cas-01',
      'eu,cas-02',
      'eu,cas-03',
      'eu,cas-04',
      'eu,cas-05',
    ]);
  }
});

test.serial("without -i, hosts are the lab's: the one named with --name", async (t) => {
  const paths = await scripts();
  t.deepEqual(bash(paths.bash, ['casfleet', 'lab', '--name', '']), ['rehearsal']);
  t.deepEqual(sorted(bash(paths.bash, ['casfleet', 'lab', 'probe', '--name', 'rehearsal', ''])), [
    'all',
    'canary',
    'cas-001',
    'cas-002',
    'ungrouped',
  ]);
  t.deepEqual(bash(paths.bash, ['casfleet', 'lab', '']), ['up', 'status', 'probe', 'reboot', 'down']);
  if (hasShell('fish'))
    t.deepEqual(sorted(fish(paths.fish, 'casfleet lab --name rehearsal probe ')), ['all', 'canary', 'cas-001', 'cas-002', 'ungrouped']);
  if (hasShell('zsh'))
    t.deepEqual(sorted(zsh(paths.zsh, ['casfleet', 'lab', 'probe', '--name', 'rehearsal', ''])), [
      'all',
      'canary',
      'cas-001',
      'cas-002',
      'ungrouped',
    ]);
});

test.serial('playbooks: the built-in ones and those in ./playbooks, once, as the first argument only', async (t) => {
  const paths = await scripts();
  const playbooks = ['scenario-a', 'scenario-b', 'playbooks/mine.ts'];
  t.deepEqual(sorted(bash(paths.bash, ['casfleet', 'apply', ''])), sorted(playbooks));
  t.deepEqual(
    sorted(bash(paths.bash, ['casfleet', 'apply', '-i', FLEET, '-C', ''])),
    sorted(playbooks),
    'flags and their values do not count as arguments',
  );
  t.deepEqual(bash(paths.bash, ['casfleet', 'apply', 'scenario-a', '']), []);
  t.deepEqual(sorted(bash(paths.bash, ['casfleet', 'playbooks', 'sc'])), ['scenario-a', 'scenario-b']);
  if (hasShell('zsh')) t.deepEqual(sorted(zsh(paths.zsh, ['casfleet', 'plan', ''])), sorted(playbooks));
  if (hasShell('fish')) {
    t.deepEqual(sorted(fish(paths.fish, 'casfleet apply ')), sorted(playbooks));
    t.deepEqual(fish(paths.fish, 'casfleet apply scenario-a '), []);
  }
});

test.serial('file flags complete files; free-text flags offer nothing; runs show offers last', async (t) => {
  const paths = await scripts();
  t.deepEqual(bash(paths.bash, ['casfleet', 'apply', '-i', 'play']), ['playbooks']);
  t.deepEqual(bash(paths.bash, ['casfleet', 'apply', '-e', '']), []);
  t.deepEqual(bash(paths.bash, ['casfleet', 'runs', 'show', 'la']), ['last']);
  t.deepEqual(bash(paths.bash, ['casfleet', 'runs', '--limit', '']), [], "runs' --limit is a count, not a host pattern");
  t.deepEqual(bash(paths.bash, ['casfleet', 'completion', '']), ['bash', 'zsh', 'fish']);
  if (hasShell('zsh')) t.deepEqual(zsh(paths.zsh, ['casfleet', 'apply', '-i', '']), ['<files >']);
  if (hasShell('fish')) t.deepEqual(fish(paths.fish, 'casfleet apply -i play'), ['playbooks/']);
});

test('the printed scripts are valid for their shells, and an unknown shell is a usage error', async (t) => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await runCli(['completion', shell]);
    t.is(result.code, 0, result.stderr);
    if (!hasShell(shell)) continue;
    const file = join(work, `printed.${shell}`);
    writeFileSync(file, result.stdout);
    const check = spawnSync(shell, [shell === 'fish' ? '--no-execute' : '-n', file], { encoding: 'utf8' });
    t.is(check.status, 0, `${shell}: ${check.stderr}`);
  }
  const unknown = await runCli(['completion', 'tcsh']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /no completion for 'tcsh'; shells: bash, zsh, fish/);
});

test('__complete stays quiet when there is nothing to offer', async (t) => {
  const missing = await runCli(['__complete', 'hosts', '-i', join(work, 'no-such-inventory.yml')]);
  t.is(missing.code, 0);
  t.is(missing.stdout + missing.stderr, '');
  const hidden = await runCli(['frobnicate']);
  t.notRegex(hidden.stderr, /__complete/, 'the hidden command is listed nowhere');
});
