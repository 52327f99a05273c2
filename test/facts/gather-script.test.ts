import { spawnSync } from 'node:child_process';
import test from 'ava';
import { FactError } from '../../src/errors.ts';
import type { Fact } from '../../src/facts/fact.ts';
import { backupsFact, fileFact } from '../../src/facts/file.ts';
import { buildGatherScript, parseGatherOutput } from '../../src/facts/gather-script.ts';
import { iptablesHost } from '../../src/facts/iptables-host.ts';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { networkInterfaces } from '../../src/facts/network.ts';
import { sshConnection } from '../../src/facts/ssh-connection.ts';
import { ufwState } from '../../src/facts/ufw.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const textFact = (id: string, script: string): Fact<string> => ({ id, script, parse: (output) => output });

const gather = async (facts: Fact<unknown>[]) => {
  const connection = createLocalConnection();
  const result = await connection.exec(buildGatherScript(facts));
  return parseGatherOutput(result.stdout, facts, result.stderr);
};

test('each fact gets exactly its own output, with or without a trailing newline', async (t) => {
  const outcomes = await gather([textFact('a', "printf 'one\\ntwo\\n'"), textFact('b', "printf 'no newline'"), textFact('c', 'true')]);
  t.deepEqual(outcomes.get('a'), { ok: true, value: 'one\ntwo\n' });
  t.deepEqual(outcomes.get('b'), { ok: true, value: 'no newline' });
  t.deepEqual(outcomes.get('c'), { ok: true, value: '' });
});

test('facts parsed in another order than they were printed still get their own output', async (t) => {
  const facts = [textFact('a', 'echo one'), textFact('b', 'echo two'), textFact('c', 'echo three')];
  const result = await createLocalConnection().exec(buildGatherScript(facts));
  const outcomes = parseGatherOutput(result.stdout, [facts[2]!, facts[0]!, facts[1]!], result.stderr);
  t.deepEqual(
    [...outcomes.entries()],
    [
      ['c', { ok: true, value: 'three\n' }],
      ['a', { ok: true, value: 'one\n' }],
      ['b', { ok: true, value: 'two\n' }],
    ],
  );
});

test('a fact whose script exits non-zero fails alone, naming its exit status', async (t) => {
  const outcomes = await gather([textFact('bad', 'echo oops >&2; exit 3'), textFact('good', 'echo fine')]);
  const bad = outcomes.get('bad');
  t.false(bad?.ok);
  t.regex(bad && !bad.ok ? bad.error.message : '', /fact bad: its script exited 3 \(stderr: oops\)/);
  t.deepEqual(outcomes.get('good'), { ok: true, value: 'fine\n' });
});

test('an exit inside a fact script does not stop the facts after it', async (t) => {
  const outcomes = await gather([textFact('exits', 'exit 0'), textFact('after', 'echo still here')]);
  t.deepEqual(outcomes.get('after'), { ok: true, value: 'still here\n' });
});

test('a parser error becomes a FactError for that fact', async (t) => {
  const strict: Fact<number> = {
    id: 'number',
    script: 'echo not-a-number',
    parse: (output) => {
      const value = Number(output.trim());
      if (Number.isNaN(value)) throw new FactError(`not a number: ${output.trim()}`);
      return value;
    },
  };
  const outcome = (await gather([strict])).get('number');
  t.true(outcome && !outcome.ok && outcome.error instanceof FactError);
});

test('missing sections are reported instead of parsed as empty', (t) => {
  const outcome = parseGatherOutput('', [textFact('gone', 'true')]).get('gone');
  t.regex(outcome && !outcome.ok ? outcome.error.message : '', /no output/);
});

test('fact scripts cannot read the stdin meant for a change', async (t) => {
  const connection = createLocalConnection();
  const facts = [textFact('stdin', 'cat')];
  const result = await connection.exec(buildGatherScript(facts), { stdin: 'secret file content' });
  t.deepEqual(parseGatherOutput(result.stdout, facts).get('stdin'), { ok: true, value: '' });
});

test('an inline fact runs in the gather shell, framed like the others', async (t) => {
  const outcomes = await gather([{ ...textFact('sets', 'x=from-inline; echo set'), inline: true }, textFact('reads', `echo "x=\${x:-}"`)]);
  t.deepEqual(outcomes.get('sets'), { ok: true, value: 'set\n' });
  t.deepEqual(outcomes.get('reads'), { ok: true, value: 'x=from-inline\n' });
});

// Inline facts share one shell: whatever options they touch must be back to the defaults for the
// facts after them (a leaked `set -f` would stop the backups fact's glob, a leaked IFS would split
// paths). Real scripts, run with this machine's /bin/sh and bash; the state they read does not matter.
const INLINE_FACTS = [
  sshConnection,
  ufwState,
  networkInterfaces,
  kernelFirewall,
  iptablesHost,
  fileFact('/etc/hostname'),
  backupsFact('/etc/hostname'),
];

for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: the inline facts leave noglob off and IFS unset`, (t) => {
    t.true(INLINE_FACTS.every((fact) => fact.inline));
    const probe = textFact('probe', `case $- in *f*) echo noglob on ;; *) echo noglob off ;; esac; echo "IFS \${IFS+set}"`);
    const facts = [...INLINE_FACTS, probe];
    const result = spawnSync(shell, ['-c', buildGatherScript(facts)], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    t.deepEqual(parseGatherOutput(result.stdout, facts).get('probe'), { ok: true, value: 'noglob off\nIFS \n' });
  });
}

for (const shell of ['/bin/sh', '/bin/bash']) {
  for (const session of [{ LC_ALL: 'C.UTF-8' }, {}]) {
    const described = session.LC_ALL ? `LC_ALL=${session.LC_ALL}` : 'no LC_ALL';
    test(`${shell}, a session with ${described}: the facts read in C, what follows the gather runs in the session's locale`, (t) => {
      const probe = textFact('probe', 'echo "$LC_ALL"');
      const after = `\nprintf 'after: %s %s\\n' "\${LC_ALL+set}" "\${LC_ALL-}"; sh -c 'echo "child: \${LC_ALL-none}"'`;
      const result = spawnSync(shell, ['-c', buildGatherScript([probe]) + after], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', ...session },
      });
      t.deepEqual(parseGatherOutput(result.stdout, [probe]).get('probe'), { ok: true, value: 'C\n' });
      const expected = session.LC_ALL ? `after: set ${session.LC_ALL}\nchild: ${session.LC_ALL}` : 'after:  \nchild: none';
      t.true(result.stdout.endsWith(`${expected}\n`), result.stdout);
    });
  }
}
