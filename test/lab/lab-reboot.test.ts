// What `lab reboot` reports, parsed from its host script's output (the script itself runs in
// test/lab/iptables.test.ts); and the script is valid sh.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { LabError } from '../../src/errors.ts';
import { parseRebootOutput } from '../../src/lab/lab-reboot.ts';

test('resets, the units that ran with their output and exit status, and CAS', (t) => {
  const output = [
    'reset iptables',
    'reset ip6tables',
    'boot casfleet-iptables.service 0 /usr/sbin/iptables-restore --noflush /etc/iptables/rules.v4',
    'boot ufw.service 0 /lib/ufw/ufw-init start quiet',
    '| (ufw.conf: ENABLED=no, so ufw loaded nothing)',
    'cas 0 . /batm/vpngen/firewall.rules',
    '',
  ].join('\n');
  t.deepEqual(parseRebootOutput('cas-001', output), {
    host: 'cas-001',
    reset: ['iptables', 'ip6tables'],
    ran: [
      {
        unit: 'casfleet-iptables.service',
        exitCode: 0,
        command: '/usr/sbin/iptables-restore --noflush /etc/iptables/rules.v4',
        output: '',
      },
      {
        unit: 'ufw.service',
        exitCode: 0,
        command: '/lib/ufw/ufw-init start quiet',
        output: '(ufw.conf: ENABLED=no, so ufw loaded nothing)',
      },
      { unit: 'CAS', exitCode: 0, command: '. /batm/vpngen/firewall.rules', output: '' },
    ],
    missingUnits: [],
    ok: true,
  });
});

test('a failed boot command or a missing unit file is not ok', (t) => {
  const failed = parseRebootOutput(
    'cas-002',
    'reset iptables\nboot casfleet-iptables.service 2 /usr/sbin/iptables-restore --noflush /etc/iptables/rules.v4\n| iptables-restore: line 5 failed\n',
  );
  t.false(failed.ok);
  t.is(failed.ran[0]?.output, 'iptables-restore: line 5 failed');
  t.false(parseRebootOutput('cas-002', 'unit-missing casfleet-iptables.service\n').ok);
});

test('anything else is an error, not ignored', (t) => {
  t.throws(() => parseRebootOutput('cas-003', 'reset iptables\nsomething odd\n'), {
    instanceOf: LabError,
    message: /unexpected output line "something odd"/,
  });
});

test('the reboot script is valid sh', (t) => {
  const script = readFileSync(new URL('../../src/lab/lab-reboot.sh', import.meta.url), 'utf8');
  t.is(spawnSync('sh', ['-n', '-c', script]).status, 0);
});
