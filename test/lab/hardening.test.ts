// What casfleet refuses to trust on a host, end to end on the lab: a python module planted in the
// login user's home, a CAS firewall.rules anyone may edit, a backup directory that is a symlink,
// a file transfer cut in the middle by a dropped connection, sessions in the host's own language, a
// login shell whose startup file prints, and zsh or fish as the login shell.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from '../../src/command/shell.ts';
import { stdinText } from '../../src/command/stdin-parts.ts';
import type { FileState } from '../../src/facts/file.ts';
import { hostRelativePaths } from '../../src/lab/lab-layout.ts';
import { labSshArgv } from '../../src/lab/lab-ssh-client.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import { errorOf, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the } = labForFile({ hosts: 4, prefix: 'hrd' });

const apply = (...args: string[]) => runCli(['apply', ...args, '-i', the().inventoryPath, '--json']);
const sh = async (host: string, script: string) => the().exec(host, ['sh', '-c', script]);
const exists = async (host: string, path: string) => (await the().exec(host, ['test', '-e', path])).code === 0;
const errorsOf = (stdout: string): string =>
  jsonEvents(stdout)
    .filter((event) => event.type === 'step' && event.status === 'failed')
    .map((event) => errorOf(event)?.message ?? '')
    .join('\n');

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

serial("a json.py in the login user's home and a usercustomize.py in their site-packages never run in the ufw batch", async (t) => {
  const host = 'cas-001';
  const site = (await the().exec(host, ['/usr/bin/python3', '-c', 'import site; print(site.getusersitepackages())'])).stdout.trim();
  t.regex(site, /^\/root\//);
  const plant = (marker: string) => `import os\nopen(${JSON.stringify(marker)}, "w").write("ran as uid %d" % os.getuid())\n`;
  await sh(host, `printf %s ${quote(`${plant('/tmp/planted-json')}raise ImportError("planted")\n`)} > /root/json.py`);
  await sh(host, `mkdir -p ${site} && printf %s ${quote(plant('/tmp/planted-usercustomize'))} > ${site}/usercustomize.py`);
  const result = await apply('scenario-a', '-l', host);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.true(recapOf(result.stdout)[host]!.changed > 0);
  t.false(await exists(host, '/tmp/planted-json'), 'json.py from the home directory ran');
  t.false(await exists(host, '/tmp/planted-usercustomize'), 'usercustomize.py from the user site ran');
  t.regex((await the().exec(host, ['ufw', 'status'])).stdout, /Status: active/);
});

serial('a firewall.rules anyone can write, or that another user owns, is refused and the host is left untouched', async (t) => {
  const host = 'cas-002';
  const rules = '/batm/vpngen/firewall.rules';
  await the().exec(host, ['chmod', '666', rules]);
  let result = await apply('scenario-a', '-l', host);
  t.is(result.code, 2, result.stdout + result.stderr);
  t.regex(
    errorsOf(result.stdout),
    /refusing to change the firewall: \/batm\/vpngen\/firewall\.rules would be re-applied as root after ufw restarts, but \/batm\/vpngen\/firewall\.rules is writable by everyone \(mode 666\)/,
  );
  t.regex((await the().exec(host, ['ufw', 'status'])).stdout, /Status: inactive/);
  t.false(await exists(host, '/batm/logs/firewall-rules.log'), 'the file was sourced');

  await the().exec(host, ['chmod', '644', rules]);
  await the().exec(host, ['chown', '65534', rules]);
  result = await apply('scenario-a', '-l', host);
  t.is(result.code, 2, result.stdout + result.stderr);
  t.regex(errorsOf(result.stdout), /firewall\.rules is owned by nobody \(uid 65534\), not by root or a batm account/);
  t.regex((await the().exec(host, ['ufw', 'status'])).stdout, /Status: inactive/);

  await the().exec(host, ['chown', '0', rules]);
  result = await apply('scenario-a', '-l', host);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.true(await exists(host, '/batm/logs/firewall-rules.log'), 'a root-owned 0644 file is re-applied');
});

serial('a backup directory that is a symlink is refused: nothing is written through it and the file stays as it was', async (t) => {
  const host = 'cas-001';
  const gate = async () => (await the().exec(host, ['cat', '/batm/config/gate.properties'])).stdout;
  const before = await gate();
  await sh(host, 'mkdir -p /tmp/elsewhere && rm -rf /var/backups/casfleet && ln -s /tmp/elsewhere /var/backups/casfleet');
  const result = await apply('scenario-b', '-l', host, '-e', 'hardwareVpnSubnets=10.8.0.0/24');
  t.is(result.code, 2, result.stdout + result.stderr);
  t.regex(errorsOf(result.stdout), /\/var\/backups\/casfleet is a symbolic link; refusing to keep or read backups through it/);
  t.is(await gate(), before);
  t.true(await exists(host, '/batm/config/vpn'));
  t.is((await the().exec(host, ['ls', '-A', '/tmp/elsewhere'])).stdout, '');

  await sh(host, 'rm /var/backups/casfleet && mkdir -m 755 /var/backups/casfleet && chown 65534 /var/backups/casfleet');
  const owned = await apply('scenario-b', '-l', host, '-e', 'hardwareVpnSubnets=10.8.0.0/24');
  t.is(owned.code, 2, owned.stdout + owned.stderr);
  t.regex(errorsOf(owned.stdout), /\/var\/backups\/casfleet is owned by uid 65534, not root/);
  t.is(await gate(), before);
});

serial('a file transfer cut in the middle by a dropped connection leaves the old file and no temp file', async (t) => {
  const lab = the();
  const host = 'cas-004';
  const path = '/batm/config/gate.properties';
  // A file large enough that its new content crosses the connection in many pieces.
  await sh(host, `{ printf '# %0300000d\\n' 0; cat ${path}; } > ${path}.new && cat ${path}.new > ${path} && rm ${path}.new`);
  const content = (await lab.exec(host, ['base64', '-w0', path])).stdout.trim();
  const before = Buffer.from(content, 'base64').toString('latin1');
  const [uid, gid, mode] = (await lab.exec(host, ['stat', '-c', '%u %g %a', path])).stdout.trim().split(' ');
  const file: FileState = {
    exists: true,
    type: 'file',
    uid: Number(uid),
    gid: Number(gid),
    owner: 'root',
    group: 'root',
    mode: mode!,
    size: before.length,
    content: before,
  };
  const change = propertiesKey({ file: path, key: 'batm.vpn-skip', value: true }).plan({ file }).changes[0]!;

  const ssh = spawn('ip', ['netns', 'exec', lab.controllerNetns, ...labSshArgv(lab, lab.host(host).address, change.command.script)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const stdin = stdinText(change.stdin!);
  ssh.stdin.write(stdin.slice(0, Math.floor(stdin.length / 2)));
  const temp = `ls -A /batm/config | grep -q '^\\.gate\\.properties\\.casfleet\\.'`;
  // Cut only once the host is receiving: its temp file exists, and half the content is on its way
  // (bash reads it whole into a variable before it writes the temp file).
  await until('the temp file', async () => (await sh(host, temp)).code === 0);
  ssh.kill('SIGKILL');
  await until('the write to end', async () => (await sh(host, temp)).code !== 0);
  t.is(Buffer.from((await lab.exec(host, ['base64', '-w0', path])).stdout.trim(), 'base64').toString('latin1'), before);
});

serial('runs show --json masks the -e values of secret vars, as the playbook marks them or their names say', async (t) => {
  const playbook = new URL('../fixtures/playbooks/secret-vars.ts', import.meta.url).pathname;
  const applied = await apply(
    playbook,
    '-l',
    'cas-004',
    '-e',
    'pin=hunter2',
    '-e',
    'apiToken=tok-9f3a',
    '-e',
    'keyId=ops-2',
    '-e',
    'slots=25',
  );
  t.is(applied.code, 0, applied.stdout + applied.stderr);
  const shown = await runCli(['runs', 'show', 'last', '--json']);
  t.is(shown.code, 0, shown.stderr);
  const record = JSON.parse(shown.stdout) as { playbook: { name: string }; extraVars: string[]; secretVars: string[] };
  t.is(record.playbook.name, 'secret-vars');
  t.deepEqual(record.extraVars, ['pin=********', 'apiToken=********', 'keyId=ops-2', 'slots=25']);
  t.false(shown.stdout.includes('hunter2') || shown.stdout.includes('tok-9f3a'));
});

serial('a planner that throws a TypeError is an internal error, with its stack under -v and in the run record', async (t) => {
  const playbook = new URL('../fixtures/playbooks/buggy-planner.ts', import.meta.url).pathname;
  const applied = await apply(playbook, '-l', 'cas-004');
  t.is(applied.code, 2, applied.stdout + applied.stderr);
  const error = errorOf(jsonEvents(applied.stdout).find((event) => event.type === 'step' && event.status === 'failed'));
  t.is(error?.kind, 'internal');
  t.regex(error?.message ?? '', /^internal error in the planner of 'buggy step': TypeError: .*rules/);
  const shown = await runCli(['runs', 'show', 'last', '--json']);
  t.is(shown.code, 0, shown.stderr);
  const recorded = (JSON.parse(shown.stdout) as { hosts: Record<string, { error?: { kind: string; stack?: string } }> }).hosts['cas-004']
    ?.error;
  t.is(recorded?.kind, 'internal');
  t.regex(recorded?.stack ?? '', /^TypeError: [\s\S]*buggy-planner\.ts/);

  const quiet = await runCli(['apply', playbook, '-l', 'cas-004', '-i', the().inventoryPath]);
  t.regex(quiet.stdout, /error \[internal\]: internal error in the planner of 'buggy step'/);
  t.notRegex(quiet.stdout, /buggy-planner\.ts/, 'no stack without -v');
  const verbose = await runCli(['apply', playbook, '-l', 'cas-004', '-i', the().inventoryPath, '-v']);
  t.regex(verbose.stdout, /^\s+at .*buggy-planner\.ts/m);
});

// pam_env gives a session the language of /etc/default/locale; sshd's SetEnv does the same here.
// C.UTF-8 with LANGUAGE=de is German wherever coreutils' German messages are installed.
serial("a host whose sessions speak German: the facts read the C locale's words, and a switch and its re-run go through", async (t) => {
  const lab = the();
  // The backup directory test above left cas-001's owned by nobody.
  await sh('cas-001', 'rm -rf /var/backups/casfleet');
  const paths = hostRelativePaths(lab.host('cas-001').id);
  appendFileSync(join(lab.dir, paths.sshdConfig), 'SetEnv LANGUAGE=de LC_ALL=C.UTF-8\n');
  process.kill(Number(readFileSync(join(lab.dir, paths.sshdPid), 'utf8')), 'SIGHUP');
  const spoken = await until('sshd to re-read its config', async () => /LANGUAGE=de/.test((await lab.ssh('cas-001', 'env')).stdout)).then(
    async () => (await lab.ssh('cas-001', 'stat -c %F /batm/config/gate.properties')).stdout.trim(),
  );
  if (spoken === 'regular file') t.log("this machine has no German coreutils messages: the session's stat speaks English");
  else t.is(spoken, 'reguläre Datei');

  // What the lab's batm-manage records of the environment a gate start passed on (the host's /batm, from here).
  const gateLocale = join(lab.dir, paths.batm, 'run-state', 'gate.locale');
  for (const playbook of ['scenario-b', 'scenario-a']) {
    rmSync(gateLocale, { force: true });
    const applied = await apply(playbook, '-l', 'cas-001');
    t.is(applied.code, 0, errorsOf(applied.stdout) || applied.stderr);
    t.true(recapOf(applied.stdout)['cas-001']!.changed > 0, playbook);
    // The switch restarted the gate, which inherits the locale of the shell that started it: the
    // session's, not the C locale the facts were read in.
    t.regex(readFileSync(gateLocale, 'utf8'), /^LC_ALL=C\.UTF-8$/m, `${playbook}: the gate's locale`);
    const again = await apply(playbook, '-l', 'cas-001');
    t.is(again.code, 0, errorsOf(again.stdout) || again.stderr);
    t.is(recapOf(again.stdout)['cas-001']!.changed, 0, `${playbook} re-run`);
  }
});

// Debian's bash reads ~/.bashrc for an sshd command: a banner there came before every answer, and
// the disarm's ("hello", not "timer … disarmed") made a healthy host roll back; noclobber made the
// gate file's write fail on its own temp file.
serial('a root ~/.bashrc that prints on stdout and stderr changes nothing: switch, re-run, audit, no rollback', async (t) => {
  const host = 'cas-004';
  // Besides the words, shell state a script does not expect: noclobber and an interactive alias.
  const bashrc = "echo Welcome to CAS\necho motd >&2\nset -C\nshopt -s expand_aliases\nalias cp='cp -i'\n";
  await sh(host, `cp -p /root/.bashrc /root/.bashrc.orig; printf %s ${quote(bashrc)} > /root/.bashrc`);
  try {
    t.regex((await the().ssh(host, 'true')).stdout, /^Welcome to CAS$/m);
    for (const playbook of ['scenario-b', 'scenario-a']) {
      const applied = await apply(playbook, '-l', host);
      t.is(applied.code, 0, errorsOf(applied.stdout) || applied.stderr);
      const counts = recapOf(applied.stdout)[host]!;
      t.true(counts.changed > 0 && counts.rolledBack === 0 && counts.unreachable === 0, `${playbook}: ${JSON.stringify(counts)}`);
      const again = await apply(playbook, '-l', host);
      t.is(recapOf(again.stdout)[host]!.changed, 0, `${playbook} re-run`);
    }
    const audit = await runCli(['audit', '-l', host, '-i', the().inventoryPath, '--json']);
    t.is(audit.code, 0, audit.stdout + audit.stderr);
  } finally {
    await sh(host, 'mv /root/.bashrc.orig /root/.bashrc');
  }
});

// The login shell runs every script: zsh runs them in its sh emulation; fish cannot, and says so
// before anything changes.
serial('root with zsh as login shell: switch and re-run go through; with fish the host fails untouched, naming the shell', async (t) => {
  const host = 'cas-003';
  const loginShell = (shell: string) => sh(host, `sed -i 's|^root:x:0:0:root:/root:.*$|root:x:0:0:root:/root:${shell}|' /etc/passwd`);
  try {
    await loginShell('/usr/bin/zsh');
    t.is((await the().ssh(host, 'echo $ZSH_NAME')).stdout.trim(), 'zsh');
    for (const playbook of ['scenario-b', 'scenario-a']) {
      const applied = await apply(playbook, '-l', host);
      t.is(applied.code, 0, errorsOf(applied.stdout) || applied.stderr);
      t.true(recapOf(applied.stdout)[host]!.changed > 0, playbook);
      const again = await apply(playbook, '-l', host);
      t.is(recapOf(again.stdout)[host]!.changed, 0, `${playbook} re-run`);
    }
    await loginShell('/usr/bin/fish');
    const before = await the().sh(host, 'cat /batm/config/gate.properties /etc/ufw/user.rules');
    const refused = await apply('scenario-b', '-l', host);
    t.is(refused.code, 2, refused.stdout);
    t.regex(errorsOf(refused.stdout), /the login shell on cas-003 did not run casfleet's script .*POSIX login shell \(bash, dash or zsh\)/);
    t.is(await the().sh(host, 'cat /batm/config/gate.properties /etc/ufw/user.rules'), before);
  } finally {
    await loginShell('/bin/bash');
  }
});
