// Login-scope facts (the SSH session's own state) must be read before sudo, which resets the
// environment, yet in the same exec as every other fact. Checked with the real sudo, locally.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import type { Fact } from '../../src/facts/fact.ts';
import { type SshConnection, sshConnection } from '../../src/facts/ssh-connection.ts';
import { HostSession } from '../../src/run/host-session.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const sudoWorks = process.getuid?.() === 0 && spawnSync('sudo', ['-n', 'true']).status === 0;
const withSudo = sudoWorks ? test.serial : test.serial.skip;

// What a privileged fact sees of the session's variable.
const seenUnderSudo: Fact<string> = {
  id: 'env:SSH_CONNECTION',
  script: `echo "\${SSH_CONNECTION:-unset}"; echo end`,
  parse: (output) => output.split('\n')[0] ?? '',
};

withSudo('with become, SSH_CONNECTION reaches the login-scope fact although sudo hides it from the others, in one exec', async (t) => {
  const before = process.env.SSH_CONNECTION;
  process.env.SSH_CONNECTION = '10.99.0.1 40000 10.99.1.1 2222';
  try {
    const connection = createLocalConnection();
    const session = new HostSession(connection, { become: { enabled: true }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
    const outcomes = await session.gather([seenUnderSudo, sshConnection]);
    t.is(connection.scripts.length, 1);
    t.deepEqual(outcomes.get('env:SSH_CONNECTION'), { ok: true, value: 'unset' }, 'sudo resets the environment');
    const ssh = outcomes.get('ssh.connection');
    t.true(ssh?.ok);
    t.like((ssh as { value: SshConnection }).value, { clientAddress: '10.99.0.1', serverPort: 2222 });

    // After a change the connection is the same one: it is not read again (it could not be, under sudo).
    const applied = await session.apply(sh`true`, undefined, [seenUnderSudo, sshConnection]);
    t.is(applied.status, 0);
    t.false(applied.facts.has('ssh.connection'));
    t.true(applied.facts.has('env:SSH_CONNECTION'));
  } finally {
    if (before === undefined) delete process.env.SSH_CONNECTION;
    else process.env.SSH_CONNECTION = before;
  }
});

// A fact that would swallow the answer if the gather left stdin to it.
const readsStdin: Fact<string> = { id: 'stdin', script: 'printf "[%s]\\n" "$(cat)"', parse: (output) => output.trim() };

for (const become of [false, true]) {
  const held = become && !sudoWorks ? test.skip : test;
  held(`a held gather reads its facts, then runs the follow-up it is told (become ${become ? 'on' : 'off'})`, async (t) => {
    const connection = createLocalConnection();
    const session = new HostSession(connection, { become: { enabled: become }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
    const followUps = { arm: sh`echo armed; id -u`, disarm: sh`echo disarmed; exit 4` };
    const first = await session.gatherHeld([readsStdin], followUps);
    t.deepEqual(first.facts.get('stdin'), { ok: true, value: '[]' }, 'the facts read nothing of stdin');
    const armed = await first.answer('arm');
    t.like(armed, { stdout: 'armed\n0\n', code: 0 });
    t.is(await first.answer('disarm'), armed, 'the first answer decides');
    const second = await session.gatherHeld([readsStdin], followUps);
    t.like(await second.answer('disarm'), { stdout: 'disarmed\n', code: 4 });
    const none = await session.gatherHeld([], followUps);
    t.like(await none.answer(), { stdout: '', code: 0 }, 'no answer: nothing more runs');
    t.is(connection.scripts.length, 3, 'one exec each');
  });
}
