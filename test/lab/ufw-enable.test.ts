// casfleet's enable without python (ufw-enable.ts) against ufw's own `ufw --force enable`, on two
// lab hosts given the same ufw files: the kernel (iptables-save / ip6tables-save without counters
// and comments), `ufw status verbose` and every ufw file must come out identical, for two log
// levels, and ufw's own reload / disable / enable must work the same afterwards. On ufw's shipped
// user.rules (no LOGGING section yet) the script must refuse and change nothing; the batch of a first
// apply must take this path.
import type { ExecutionContext } from 'ava';
import { ufwBatchCommand } from '../../src/steps/ufw-batch.ts';
import { NOT_VERIFIED, ufwDirectEnableFunction } from '../../src/steps/ufw-enable.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the } = labForFile({ hosts: 3, prefix: 'uen' });
const [REAL, DIRECT, BATCH] = ['cas-001', 'cas-002', 'cas-003'] as const;

const onHost = async (host: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> => {
  const result = await the().exec(host, ['sh', '-c', script]);
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr };
};
const ok = async (host: string, script: string): Promise<string> => {
  const result = await onHost(host, script);
  if (result.code !== 0) throw new Error(`${host}: ${script}: exit ${result.code}: ${result.stdout}${result.stderr}`);
  return result.stdout;
};
const both = (script: string) => Promise.all([ok(REAL, script), ok(DIRECT, script)]);
const directEnable = (host: string) => onHost(host, `${ufwDirectEnableFunction().script}\nufw_direct_enable`);

/** Everything enabling may change: kernel rules (no counters, no comment lines), ufw's view and files. */
const STATE = `for exe in iptables-save ip6tables-save; do echo "== $exe"; $exe | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'; done
echo '== status'; ufw status verbose
sysctl -n net.ipv4.conf.all.accept_redirects net.ipv6.conf.default.accept_redirects net.ipv4.conf.all.log_martians
for f in /etc/ufw/ufw.conf /etc/default/ufw /etc/ufw/user.rules /etc/ufw/user6.rules; do echo "== $f"; cat "$f"; done`;

const sameState = async (t: ExecutionContext, when: string, running = true) => {
  const [real, direct] = await both(STATE);
  t.is(real.split('== status')[0]?.includes(':ufw-user-input'), running, `${when}: ufw's user chains ${running ? '' : 'not '}running`);
  t.is(direct, real, `${when}: same kernel, status and files`);
};

serial('on the rules file ufw ships the script refuses and changes nothing', async (t) => {
  const before = await ok(DIRECT, STATE);
  const result = await directEnable(DIRECT);
  t.is(result.code, NOT_VERIFIED, result.stderr);
  t.is(await ok(DIRECT, STATE), before);
});

serial('enable without python gives what ufw --force enable gives, for two log levels, and ufw keeps working', async (t) => {
  // ufw writes its files (with their LOGGING section) on the first rule change.
  await both(
    `ufw allow 22/tcp && ufw allow proto tcp from 10.8.0.0/24 to any port 8000:8010 comment 'cas admin' && ufw allow in on lo to any port 7741 proto udp && ufw limit 2222/tcp && ufw default deny incoming`,
  );
  for (const level of ['low', 'medium']) {
    await both(`ufw logging ${level} >/dev/null`);
    await ok(REAL, 'ufw --force enable');
    const direct = await directEnable(DIRECT);
    t.is(direct.code, 0, `${level}: ${direct.stdout}${direct.stderr}`);
    await sameState(t, `enabled, logging ${level}`);
    await both('ufw reload');
    await sameState(t, `after ufw reload, logging ${level}`);
    await both('ufw disable');
    await sameState(t, `after ufw disable, logging ${level}`, false);
  }
  // Enabled by hand again after casfleet's enable: the chains left by disable are reused.
  await ok(REAL, 'ufw --force enable');
  t.is((await directEnable(DIRECT)).code, 0);
  await both('ufw disable && ufw --force enable');
  await sameState(t, 'after ufw disable and enable by hand');
});

serial('the batch of a first apply enables without python after its rule operations', async (t) => {
  const batch = ufwBatchCommand(
    [
      ['allow', '22/tcp'],
      ['default', 'deny', 'incoming'],
      ['--force', 'enable'],
    ],
    { reapplyVpngen: false },
  );
  const result = await onHost(BATCH, batch.script);
  t.is(result.code, 0, result.stderr);
  t.false(result.stderr.includes('not the verified'), result.stderr);
  t.true(result.stdout.includes('Firewall is active and enabled on system startup'));
  const status = await ok(BATCH, 'ufw status verbose');
  t.regex(status, /^Status: active$/m);
  t.regex(status, /^Default: deny \(incoming\)/m);
  t.regex(status, /^22\/tcp +ALLOW IN +Anywhere +$/m);
});

serial('ip[6]tables-restore gets before*.rules and after*.rules as awk 1 prints them, a missing last newline added', async (t) => {
  await ok(BATCH, 'ufw disable >/dev/null');
  // A comment with a backslash and trailing blanks, and files whose last line has no newline.
  await ok(
    BATCH,
    `for f in before.rules before6.rules; do printf '# a \\\\ backslash  \\n' >>/etc/ufw/$f; done
for f in after.rules after6.rules; do printf '%s' "$(cat /etc/ufw/$f)" >/etc/ufw/$f.new && mv /etc/ufw/$f.new /etc/ufw/$f; done
mkdir -p /root/restore-shim
for exe in iptables-restore ip6tables-restore; do
  printf '#!/bin/sh\\ntee /root/restore-shim/%s.in | %s "$@"\\n' $exe "$(command -v $exe)" >/root/restore-shim/$exe
  chmod 755 /root/restore-shim/$exe
done`,
  );
  const direct = await onHost(BATCH, `PATH="/root/restore-shim:$PATH"\n${ufwDirectEnableFunction().script}\nufw_direct_enable`);
  t.is(direct.code, 0, direct.stdout + direct.stderr);
  for (const [exe, t6] of [
    ['iptables-restore', ''],
    ['ip6tables-restore', '6'],
  ] as const) {
    const [input, expected, last] = await Promise.all([
      ok(BATCH, `cat /root/restore-shim/${exe}.in`),
      ok(BATCH, `awk 1 /etc/ufw/before${t6}.rules /etc/ufw/after${t6}.rules`),
      ok(BATCH, `tail -c 1 /etc/ufw/after${t6}.rules | od -An -c`),
    ]);
    t.notRegex(last, /\\n/, `after${t6}.rules ends without a newline`);
    t.true(expected.includes('\n# a \\ backslash  \n'));
    t.true(input.includes(`COMMIT\n${expected}*filter\n`), `${exe}: its input holds awk's output whole`);
  }
  t.regex(await ok(BATCH, 'ufw status'), /^Status: active$/m);
});
