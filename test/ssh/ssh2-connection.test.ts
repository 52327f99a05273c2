// Integration tests against a real, throwaway OpenSSH sshd on 127.0.0.1 (see helpers/sshd.ts).
// They need root (sshd's privsep directory, logging in as root) and are skipped otherwise.

import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import { AuthError, ConnectError, HostKeyError, RemoteCommandError } from '../../src/errors.ts';
import { classifyError } from '../../src/report/error-info.ts';
import { HostSession } from '../../src/run/host-session.ts';
import type { Connection, ConnectOptions, HeldAt } from '../../src/ssh/connection.ts';
import { fingerprint } from '../../src/ssh/known-hosts.ts';
import { PASSPHRASE_ENV } from '../../src/ssh/private-key.ts';
import { connect } from '../../src/ssh/ssh2-connection.ts';
import { startSilentServer } from './helpers/silent-server.ts';
import { type Sshd, startSshd } from './helpers/sshd.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const itest = isRoot ? test : test.skip;
// Serial tests run before the concurrent ones, alone: used where timings are measured.
const serialTest = isRoot ? test.serial : test.serial.skip;
const PASSPHRASE = 'integration passphrase';

let sshd: Sshd;
let knownHosts: string;
let shared: Connection;

const options = (overrides: Partial<ConnectOptions> = {}): ConnectOptions => ({
  name: 'lab-01',
  host: sshd.host,
  port: sshd.port,
  username: sshd.username,
  privateKeyPath: sshd.clientKey,
  knownHostsPaths: [knownHosts],
  readyTimeoutMs: 10_000,
  ...overrides,
});

/** A connection to another sshd than the shared one (its own config), with its own known_hosts. */
const connectTo = async (other: Sshd): Promise<Connection> =>
  connect({
    ...options(),
    port: other.port,
    privateKeyPath: other.clientKey,
    knownHostsPaths: [await other.writeKnownHosts('known_hosts', [`[${other.host}]:${other.port} ${other.hostKeys.ed25519}`])],
  });

/** A connection of its own, for tests that measure time (the shared one queues behind other tests). */
const withConnection = async <T>(body: (connection: Connection) => Promise<T>): Promise<T> => {
  const connection = await connect(options());
  try {
    return await body(connection);
  } finally {
    await connection.close();
  }
};

const blobOf = (publicKey: string): Buffer => Buffer.from(publicKey.split(' ')[1]!, 'base64');
const elapsed = (started: number): number => performance.now() - started;

test.before(async () => {
  if (!isRoot) return;
  // root's ~/.bashrc here runs `pyenv init` (~90 ms per command). bash reads ~/.bashrc for sshd commands
  // only while SHLVL < 2, so the fixture makes sshd hand sessions SHLVL=1: ~3 ms per exec instead.
  sshd = await startSshd({ config: ['SetEnv SHLVL=1'] });
  knownHosts = await sshd.writeKnownHosts('known_hosts', [`[${sshd.host}]:${sshd.port} ${sshd.hostKeys.ed25519}`]);
  shared = await connect(options());
});

test.after.always(async () => {
  await shared?.close();
  await sshd?.stop();
});

itest('exec returns stdout, stderr and the exit code, untrimmed', async (t) => {
  const result = await shared.exec("printf '  out\\n\\n'; printf 'err\\n' >&2");
  t.deepEqual(result, { stdout: '  out\n\n', stderr: 'err\n', code: 0 });
});

// /bin/sh here is dash (Debian, Ubuntu): a login bash hands it the script, which it runs whole,
// stdin included; a /bin/sh that is bash would run it itself.
const systemShellIsBash = /bash/.test(realpathSync('/bin/sh'));
(systemShellIsBash ? test.skip : itest)(
  'a login bash hands the script to /bin/sh, which runs all of it, stdin and exit status included',
  async (t) => {
    const result = await shared.exec(`echo "\${BASH_VERSION:-no bash} $0"; read -r line; echo "$line"; exit 3`, { stdin: 'from stdin\n' });
    t.deepEqual(result, { stdout: 'no bash casfleet-sh\nfrom stdin\n', stderr: '', code: 3 });
  },
);

itest("what the login shell's startup files print never reaches the command's stdout or stderr", async (t) => {
  // A non-interactive bash sources BASH_ENV first, as Debian's bash sources ~/.bashrc for sshd.
  const startup = join(await mkdtemp(join(tmpdir(), 'casfleet-noisy-')), 'startup.sh');
  await writeFile(
    startup,
    [
      "echo 'Welcome to cas-001'",
      "echo 'a warning' >&2",
      "printf 'no newline'",
      // Shell state that breaks scripts: noclobber, nounset, xtrace, an interactive alias, failglob, IFS.
      'set -Cux',
      "shopt -s expand_aliases failglob; alias cp='cp -i'",
      'IFS=:',
      '',
    ].join('\n'),
  );
  const noisy = await startSshd({ config: [`SetEnv SHLVL=1 BASH_ENV=${startup}`] });
  const connection = await connectTo(noisy);
  try {
    const raw = await connection.exec('cat "$BASH_ENV" >/dev/null && echo out && echo err >&2; exit 4');
    t.deepEqual(raw, { stdout: 'out\n', stderr: 'err\n', code: 4 });
    const dir = await mkdtemp(join(tmpdir(), 'casfleet-noisy-work-'));
    const script = `cd ${dir} && echo a > f && echo b > f && cp f g && cp f g && for x in none.*; do echo "$x"; done; v='1 2'; set -- $v; echo $# $unset_var`;
    t.deepEqual(await connection.exec(script), { stdout: 'none.*\n2\n', stderr: '', code: 0 });
    // The startup file did run: the same command without the framing shows its words.
    const seen = await run('ssh', [
      ...[
        '-p',
        String(noisy.port),
        '-i',
        noisy.clientKey,
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${join(noisy.dir, 'known_hosts')}`,
      ],
      `${noisy.username}@${noisy.host}`,
      'true',
    ]);
    t.is(seen.stdout, 'Welcome to cas-001\nno newline');
  } finally {
    await connection.close();
    await noisy.stop();
  }
});

itest("a command the login shell never ran (sshd's ForceCommand here, a fish login shell alike) is an error, not its output", async (t) => {
  const forced = await startSshd({ config: ['SetEnv SHLVL=1', "ForceCommand echo 'menu: 1) status 2) exit'"] });
  const connection = await connectTo(forced);
  try {
    const error = await t.throwsAsync(connection.exec('echo out'), { instanceOf: RemoteCommandError });
    t.regex(error?.message ?? '', /did not run casfleet's script \(exit 0\); casfleet needs a POSIX login shell/);
  } finally {
    await connection.close();
    await forced.stop();
  }
});

itest('a non-zero exit resolves with its code (the caller decides what failure means)', async (t) => {
  const result = await shared.exec('echo partial; exit 3');
  t.is(result.code, 3);
  t.is(result.stdout, 'partial\n');
});

itest('a command killed by a signal has code null and the signal name', async (t) => {
  const result = await shared.exec('kill -TERM $$');
  t.is(result.code, null);
  t.is(result.signal, 'SIGTERM');
});

itest('stdin: 1 MiB of random bytes arrive intact, then EOF', async (t) => {
  const data = randomBytes(1024 * 1024);
  const result = await shared.exec('f=$(mktemp); cat > "$f"; sha256sum < "$f" | cut -d" " -f1; wc -c < "$f"; rm -f "$f"', { stdin: data });
  const [digest, size] = result.stdout.trim().split('\n');
  t.is(digest, createHash('sha256').update(data).digest('hex'));
  t.is(size?.trim(), String(data.length));
});

itest('stdin: a string goes over as UTF-8; no stdin means immediate EOF', async (t) => {
  const text = 'grüße € 日本 🚀\n'.repeat(1000);
  t.is((await shared.exec('cat', { stdin: text })).stdout, text);
  // `cat` with no stdin would hang forever without the EOF.
  t.deepEqual(await shared.exec('cat', { timeoutMs: 5_000 }), { stdout: '', stderr: '', code: 0 });
});

// A held exec (ExecOptions.hold): the script prints a marker line, casfleet reads what came before
// it, and answers on stdin; the wait is casfleet's, so the command's timeout does not run meanwhile.
const HELD = `printf 'read %s\\n' "$(cat /proc/sys/kernel/hostname >/dev/null && echo facts)"; echo noise >&2
printf 'hold-here\\n'; printf 'hold-here\\n' >&2
if IFS= read -r word; then printf 'answer %s\\n' "$word"; else printf 'eof [%s]\\n' "$word"; fi`;

// Each hold answered with what `decide` resolves to; a rejection is EOF alone.
const answering =
  (decide: (at: HeldAt) => Promise<string>) =>
  (at: HeldAt): void => {
    decide(at).then(
      (text) => at.answer(text),
      () => at.answer(),
    );
  };

itest('a held exec gives what came before its marker, then its stdin carries the answer, then EOF', async (t) => {
  await withConnection(async (connection) => {
    const seen: { stdout: string; stderr: string }[] = [];
    // The timeout stops while casfleet decides and starts again at the answer: 1.2 s of waiting and
    // 2 s of follow-up fit in a 3 s timeout.
    const result = await connection.exec(`${HELD}; sleep 2`, {
      timeoutMs: 3000,
      hold: {
        marker: 'hold-here',
        reached: answering(async (at) => {
          seen.push({ stdout: at.stdout, stderr: at.stderr });
          await sleep(1200);
          return 'disarm\n';
        }),
      },
    });
    // stderr is a stream of its own, marked too: what came before the marker on each is the hold's.
    t.deepEqual(seen, [{ stdout: 'read facts\n', stderr: 'noise\n' }]);
    t.deepEqual(result, { stdout: 'read facts\nhold-here\nanswer disarm\n', stderr: 'noise\nhold-here\n', code: 0 });
    // stdin given up front comes first (sudo -S takes its password line before the script runs).
    const first = await connection.exec(`IFS= read -r first; printf 'first %s\\n' "$first"\n${HELD}`, {
      stdin: 'secret\n',
      hold: { marker: 'hold-here', reached: answering(async () => 'fire\n') },
    });
    t.is(first.stdout, 'first secret\nread facts\nhold-here\nanswer fire\n');
    const refused = await connection.exec(HELD, {
      hold: {
        marker: 'hold-here',
        reached: answering(async () => {
          throw new Error('no answer');
        }),
      },
    });
    t.is(refused.stdout, 'read facts\nhold-here\neof []\n', 'a failed answer is EOF alone');
    const cut = await connection.exec(HELD, { hold: { marker: 'hold-here', reached: answering(async () => 'disa') } });
    t.is(cut.stdout, 'read facts\nhold-here\neof [disa]\n', 'a line without its end is not a line');
  });
});

// Holds again after each answer, marking stdout and stderr, until EOF.
const HOLDS_AGAIN = `printf 'start\\n'; n=0
while :; do
  printf 'hold-here\\n'; printf 'hold-here\\n' >&2
  IFS= read -r word || { echo "eof after $n"; exit 0; }
  n=$((n + 1)); echo "did $word"; echo "err $word" >&2
done`;

itest('an answer may keep the exec holding: each hold gives what came since the last answer, on stdout and stderr', async (t) => {
  await withConnection(async (connection) => {
    const seen: { stdout: string; stderr: string }[] = [];
    let answered = 0;
    const result = await connection.exec(HOLDS_AGAIN, {
      timeoutMs: 5000,
      hold: {
        marker: 'hold-here',
        reached: (at) => {
          seen.push({ stdout: at.stdout, stderr: at.stderr });
          answered += 1;
          if (answered < 3) t.true(at.answer(`step${answered}\n`, true));
          else {
            t.true(at.answer());
            t.false(at.answer('late\n'), 'a hold is answered once');
          }
        },
      },
    });
    t.deepEqual(seen, [
      { stdout: 'start\n', stderr: '' },
      { stdout: 'did step1\n', stderr: 'err step1\n' },
      { stdout: 'did step2\n', stderr: 'err step2\n' },
    ]);
    t.is(result.stdout, 'start\nhold-here\ndid step1\nhold-here\ndid step2\nhold-here\neof after 2\n');
    t.is(result.code, 0);
  });
});

itest(
  "a host's changes chained after its begin go over SSH in one exec; once the chain waited past its timeout, an exec of their own",
  async (t) => {
    await withConnection(async (connection) => {
      const execs: string[] = [];
      const counting: Connection = {
        host: connection.host,
        exec: (script, opts) => {
          execs.push(script);
          return connection.exec(script, opts);
        },
        close: async () => {},
      };
      const session = new HostSession(counting, { become: { enabled: false }, gatherTimeoutMs: 1000, applyTimeoutMs: 5000 });
      const held = await session.gatherHeld([], { begin: sh`echo armed` }, 'begin');
      t.like(await held.answer('begin'), { stdout: 'armed\n', code: 0 });
      t.like(await session.apply(sh`cat`, 'line one\nline two\n', []), { status: 0, output: 'line one\nline two' });
      t.like(await session.apply(sh`echo second >&2; exit 2`, undefined, []), { status: 2, output: 'second' });
      t.is(execs.length, 1);
      await sleep(1500);
      t.like(await session.apply(sh`echo later`, undefined, []), { status: 0, output: 'later' });
      t.is(execs.length, 2, 'the chain had ended: the change went over an exec of its own');
      await session.endChain();
    });
  },
);

itest(
  'a held exec whose answer never comes ends with EOF after the timeout; one that never holds, or is told to end stdin first, ends as usual',
  async (t) => {
    await withConnection(async (connection) => {
      const started = performance.now();
      let late: HeldAt | undefined;
      const result = await connection.exec(HELD, {
        timeoutMs: 1000,
        hold: {
          marker: 'hold-here',
          reached: (at) => {
            late = at;
          },
        },
      });
      t.is(result.stdout, 'read facts\nhold-here\neof []\n');
      t.true(elapsed(started) < 10_000);
      t.false(late?.answer('disarm\n') ?? true, 'an answer after the wait is over is refused, and says so');
      let reached = false;
      const never = await connection.exec('echo done', {
        hold: {
          marker: 'hold-here',
          reached: () => {
            reached = true;
          },
        },
      });
      t.deepEqual(never, { stdout: 'done\n', stderr: '', code: 0 });
      t.false(reached);
      // As sudo does with a wrong password: it asks again and reads another line, which must be EOF.
      const askedAgain = await connection.exec(
        `printf 'ask\\n' >&2; read -r a; printf 'ask\\n' >&2; if read -r b; then echo "got $b"; else echo eof; fi; printf 'hold-here\\n'`,
        {
          stdin: 'wrong\n',
          timeoutMs: 5000,
          hold: {
            marker: 'hold-here',
            reached: answering(async () => 'answer\n'),
            endStdinIf: (stderr) => stderr.split('ask').length > 2,
          },
        },
      );
      t.deepEqual(askedAgain, { stdout: 'eof\nhold-here\n', stderr: 'ask\nask\n', code: 0 });
    });
  },
);

itest('UTF-8: 200 000 × € (3 bytes each) survive chunk boundaries on stdout and stderr', async (t) => {
  const expected = '€'.repeat(200_000);
  const result = await shared.exec("yes '€' | head -n 200000 | tr -d '\\n'; yes '€' | head -n 200000 | tr -d '\\n' >&2");
  t.is(result.stdout.length, expected.length);
  t.false(result.stdout.includes('\uFFFD'));
  t.true(result.stdout === expected);
  t.true(result.stderr === expected);
});

itest('a timeout rejects with RemoteCommandError naming it; the connection stays usable', async (t) => {
  await withConnection(async (connection) => {
    const started = performance.now();
    // Long enough for 'started' to arrive even on a loaded machine, far shorter than the sleep.
    const error = await t.throwsAsync(connection.exec('echo started >&2; sleep 20', { timeoutMs: 3000 }), {
      instanceOf: RemoteCommandError,
    });
    t.true(elapsed(started) < 10_000);
    t.regex(error.message, /timed out after 3 s on lab-01/);
    t.is(error.exitCode, null);
    t.is(error.stderr, 'started\n');
    t.is(error.host, 'lab-01');
    t.is((await connection.exec('echo still here')).stdout, 'still here\n');
  });
});

itest('an AbortSignal cancels a running command', async (t) => {
  await withConnection(async (connection) => {
    const started = performance.now();
    const error = await t.throwsAsync(connection.exec('sleep 20', { signal: AbortSignal.timeout(300) }), {
      instanceOf: RemoteCommandError,
    });
    t.regex(error.message, /aborted/);
    t.true(elapsed(started) < 10_000);
  });
});

itest('an AbortSignal also frees a caller still waiting for a channel slot', async (t) => {
  await withConnection(async (connection) => {
    const busy = Array.from({ length: 4 }, () => connection.exec('sleep 1'));
    const controller = new AbortController();
    const queued = connection.exec('echo never', { signal: controller.signal });
    const started = performance.now();
    controller.abort();
    await t.throwsAsync(queued, { instanceOf: RemoteCommandError, message: /aborted/ });
    t.true(elapsed(started) < 1_000);
    t.true((await Promise.all(busy)).every((r) => r.code === 0));
  });
});

itest('a background child holding stdout does not hang the exec (exit + grace)', async (t) => {
  // Chosen behaviour: resolve EXIT_GRACE_MS (250 ms) after 'exit' even though 'close' would only come
  // when `sleep` ends (20 s later); the exit status and the output printed so far are returned.
  // Bounds in these tests are loose on purpose: the box may be loaded; what matters is "not 20 s".
  const { result, took } = await withConnection(async (connection) => {
    const started = performance.now();
    return { result: await connection.exec('sleep 20 & echo hi'), took: elapsed(started) };
  });
  t.deepEqual(result, { stdout: 'hi\n', stderr: '', code: 0 });
  t.true(took < 10_000, `took ${took.toFixed(0)} ms`);
  t.log(`'sleep 20 & echo hi' resolved after ${took.toFixed(0)} ms`);
});

itest('10 concurrent execs on one connection all succeed (channel cap 4, not sshd MaxSessions 10)', async (t) => {
  const connection = await connect(options());
  try {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => connection.exec(`sleep 0.3; echo ${i}`)));
    const took = elapsed(started);
    t.deepEqual(
      results.map((r) => [r.code, r.stdout]),
      Array.from({ length: 10 }, (_, i) => [0, `${i}\n`]),
    );
    // 10 commands at 4 at a time need three rounds of 0.3 s.
    t.true(took >= 850, `took ${took.toFixed(0)} ms`);
    const burst = await Promise.all(Array.from({ length: 40 }, () => connection.exec('true')));
    t.true(burst.every((r) => r.code === 0));
    t.false((await sshd.log()).includes('no more sessions'));
  } finally {
    await connection.close();
  }
});

serialTest('reused connection: per-exec latency (TCP_NODELAY on)', async (t) => {
  const connection = await connect(options());
  try {
    const times: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      await connection.exec('true');
      times.push(elapsed(started));
    }
    const cpu = process.cpuUsage(cpuBefore);
    times.sort((a, b) => a - b);
    const median = times[20]!;
    t.log(
      `40 sequential execs: median ${median.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms, ` +
        `client CPU ${((cpu.user + cpu.system) / 1000 / 40).toFixed(2)} ms/exec`,
    );
    // Nagle + delayed ACK would make every exec take >= 40 ms, the fastest too (with setNoDelay(false)
    // the fastest of 40 took 57.5 ms, their median 61.9); a machine busy with other tests slows many
    // execs past that (the fastest quarter reached 35.2 ms in a CI run beside other load), not the
    // fastest.
    t.true(times[0]! < 35, `fastest exec took ${times[0]!.toFixed(1)} ms`);
  } finally {
    await connection.close();
  }
});

itest('unknown host key → HostKeyError naming host, files and fingerprint; nothing runs', async (t) => {
  const empty = await sshd.writeKnownHosts('known_hosts.other', [`other.example ${sshd.hostKeys.ed25519}`]);
  const missing = join(sshd.dir, 'does-not-exist');
  const marker = join(sshd.dir, 'marker-unknown');
  const error = await t.throwsAsync(
    connect(options({ knownHostsPaths: [empty, missing] })).then((c) => c.exec(`touch ${marker}`)),
    { instanceOf: HostKeyError },
  );
  t.regex(error.message, /host key verification failed for lab-01 \(\[127\.0\.0\.1\]:\d+\)/);
  t.true(error.message.includes(`no known_hosts entry for [127.0.0.1]:${sshd.port}`));
  t.true(error.message.includes(fingerprint(blobOf(sshd.hostKeys.ed25519))));
  t.true(error.message.includes(empty));
  t.true(error.message.includes(`${missing} (missing)`));
  t.is(error.host, 'lab-01');
  t.like(classifyError(error, 'internal'), { kind: 'host-key' });
  t.false(existsSync(marker));
});

itest('changed host key → HostKeyError with the OpenSSH "has changed" alarm; nothing runs', async (t) => {
  // known_hosts holds another ed25519 key for this host: exactly what a man in the middle looks like.
  const { stdout } = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshd.dir, 'impostor'), '-C', 'x']);
  t.is(stdout, '');
  const impostor = (await readFile(join(sshd.dir, 'impostor.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  const changed = await sshd.writeKnownHosts('known_hosts.changed', [`[${sshd.host}]:${sshd.port} ${impostor}`]);
  const marker = join(sshd.dir, 'marker-changed');
  const error = await t.throwsAsync(
    connect(options({ knownHostsPaths: [changed] })).then((c) => c.exec(`touch ${marker}`)),
    { instanceOf: HostKeyError },
  );
  t.regex(error.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  t.regex(error.message, /has CHANGED; nothing was run/);
  t.true(error.message.includes(`The host presented ssh-ed25519 ${fingerprint(blobOf(sshd.hostKeys.ed25519))}`));
  t.true(error.message.includes(`${changed}:1`));
  t.like(classifyError(error, 'internal'), { kind: 'host-key' });
  t.false(existsSync(marker));
});

itest('a host known only by its ecdsa or rsa key still connects (known types are offered first)', async (t) => {
  for (const type of ['ecdsa', 'rsa'] as const) {
    const path = await sshd.writeKnownHosts(`known_hosts.${type}`, [`[${sshd.host}]:${sshd.port} ${sshd.hostKeys[type]}`]);
    const connection = await connect(options({ knownHostsPaths: [path] }));
    t.is((await connection.exec('echo ok')).stdout, 'ok\n', type);
    await connection.close();
  }
});

itest('a key the server does not accept → AuthError "authentication failed for user …"', async (t) => {
  const stranger = join(sshd.dir, 'stranger');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
  const error = await t.throwsAsync(connect(options({ privateKeyPath: stranger })), { instanceOf: ConnectError });
  t.false(error instanceof HostKeyError);
  t.true(error instanceof AuthError);
  t.like(classifyError(error, 'internal'), { kind: 'auth' });
  t.regex(error.message, new RegExp(`authentication failed for user ${sshd.username} \\(tried key ${stranger} \\(ssh-ed25519 SHA256:`));
});

itest('an encrypted key works with CASFLEET_KEY_PASSPHRASE and is decrypted once', async (t) => {
  const key = join(sshd.dir, 'encrypted');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-f', key]);
  await appendFile(join(sshd.dir, 'authorized_keys'), await readFile(`${key}.pub`, 'utf8'));
  process.env[PASSPHRASE_ENV] = PASSPHRASE;
  const first = await connect(options({ privateKeyPath: key }));
  const started = performance.now();
  const second = await connect(options({ privateKeyPath: key }));
  const took = elapsed(started);
  t.is((await second.exec('echo ok')).stdout, 'ok\n');
  // bcrypt-pbkdf alone costs ~300+ ms; a second connect that re-parsed the key would show it.
  t.log(`second connect with the cached encrypted key: ${took.toFixed(0)} ms`);
  await Promise.all([first.close(), second.close()]);
});

itest('ssh-agent via SSH_AUTH_SOCK when no key is given', async (t) => {
  const socket = join(sshd.dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const agentExited = new Promise((resolve) => agent.once('exit', resolve));
  const previous = process.env.SSH_AUTH_SOCK;
  try {
    for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await run('ssh-add', ['-q', sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    process.env.SSH_AUTH_SOCK = socket;
    const { privateKeyPath: _unused, ...withoutKey } = options();
    const connection = await connect(withoutKey);
    t.is((await connection.exec('echo via agent')).stdout, 'via agent\n');
    await connection.close();
  } finally {
    if (previous === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = previous;
    if (agent.pid !== undefined && agent.exitCode === null) process.kill(agent.pid, 'SIGTERM');
    await agentExited;
  }
});

itest('connection refused → ConnectError saying so', async (t) => {
  // A port we just had and released: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const error = await t.throwsAsync(connect(options({ port })), { instanceOf: ConnectError });
  t.regex(error.message, new RegExp(`cannot connect to lab-01 \\(root@\\[127\\.0\\.0\\.1\\]:${port}\\): connection refused`));
  t.like(classifyError(error, 'internal'), { kind: 'connect' });
});

itest('a server that never speaks SSH → ConnectError after readyTimeout', async (t) => {
  const silent = await startSilentServer();
  try {
    const started = performance.now();
    const error = await t.throwsAsync(connect(options({ port: silent.port, readyTimeoutMs: 500 })), {
      instanceOf: ConnectError,
    });
    t.regex(error.message, /timed out after 0\.5 s/);
    t.like(classifyError(error, 'internal'), { kind: 'connect' });
    t.true(elapsed(started) < 5_000);
  } finally {
    await silent.close();
  }
});

itest('a connection dropped before the banner is retried once, within the same ready timeout', async (t) => {
  // Dropped at once: plenty of the budget is left, so one retry.
  const quick = await startSilentServer({ dropAfterMs: 0 });
  try {
    await t.throwsAsync(connect(options({ port: quick.port })), { instanceOf: ConnectError, message: /before the SSH handshake/ });
    t.is(quick.accepted(), 2);
  } finally {
    await quick.close();
  }
  // Dropped after most of the budget: a retry would have had too little left to log in, so the
  // connect gives up instead of starting a second full timeout.
  const late = await startSilentServer({ dropAfterMs: 800 });
  try {
    await t.throwsAsync(connect(options({ port: late.port, readyTimeoutMs: 1_500 })), { instanceOf: ConnectError });
    t.is(late.accepted(), 1);
  } finally {
    await late.close();
  }
});

itest('an AbortSignal stops a handshake that is still waiting', async (t) => {
  const silent = await startSilentServer();
  try {
    const started = performance.now();
    const error = await t.throwsAsync(connect(options({ port: silent.port, signal: AbortSignal.timeout(200) })), {
      instanceOf: ConnectError,
    });
    t.regex(error.message, /connecting to lab-01 was aborted/);
    t.true(elapsed(started) < 5_000);
    await t.throwsAsync(connect(options({ signal: AbortSignal.abort() })), { message: /aborted/ });
  } finally {
    await silent.close();
  }
});

itest('closing the connection fails pending commands clearly, and later execs too', async (t) => {
  const connection = await connect(options());
  const pending = connection.exec('sleep 10');
  await new Promise((resolve) => setTimeout(resolve, 200));
  await connection.close();
  const error = await t.throwsAsync(pending, { instanceOf: RemoteCommandError });
  t.regex(error.message, /closed by casfleet/);
  await t.throwsAsync(connection.exec('true'), { instanceOf: RemoteCommandError, message: /not connected to lab-01/ });
  await connection.close(); // idempotent
});

itest('losing the connection mid-command rejects (no crash from late ssh2 errors)', async (t) => {
  const connection = await connect(options());
  // The shell's parent is this connection's sshd session process (a child of the sshd we started).
  const error = await t.throwsAsync(connection.exec('kill -KILL $PPID; sleep 5', { timeoutMs: 10_000 }), {
    instanceOf: RemoteCommandError,
  });
  t.regex(error.message, /connection to lab-01 was lost while a command ran|cannot open an SSH channel/);
  t.is(error.exitCode, null);
  await t.throwsAsync(connection.exec('true'), { instanceOf: RemoteCommandError });
  await connection.close();
});
