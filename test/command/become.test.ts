// become: sudo -n without a password, sudo -k -S with it on stdin, and what sudo's refusals mean.
import test from 'ava';
import { becomeStdin, SUDO_PROMPT, sh, sudoRefusal, withBecome } from '../../src/command/shell.ts';

const command = sh`ufw status`;

test('without a password sudo never waits for one', (t) => {
  t.is(withBecome(command, { enabled: true }).script, "sudo -n -- sh -c 'ufw status'");
  t.is(becomeStdin({ enabled: true }, 'data'), 'data');
});

test('with a password: sudo -k -S with a private prompt, the password only as the first stdin line', (t) => {
  const become = { enabled: true, user: 'batm', password: 'pa ss' };
  const wrapped = withBecome(command, become);
  t.is(wrapped.script, "sudo -k -S -p '[casfleet sudo password]' -u batm -- sh -c 'ufw status'");
  t.false(wrapped.script.includes('pa ss'));
  t.false(wrapped.display.includes('pa ss'));
  t.is(becomeStdin(become, undefined), 'pa ss\n');
  t.is(becomeStdin(become, 'file content'), 'pa ss\nfile content');
});

test('sudo asking twice means the password was rejected; sudo -n says when one is needed', (t) => {
  const withPassword = { enabled: true, password: 'x' };
  t.is(
    sudoRefusal(withPassword, `${SUDO_PROMPT}Sorry, try again.\n${SUDO_PROMPT}\nsudo: no password was provided\n`),
    'sudo rejected the password',
  );
  t.is(sudoRefusal(withPassword, `${SUDO_PROMPT}ufw: error`), undefined);
  t.regex(sudoRefusal({ enabled: true }, 'sudo: a password is required\n') ?? '', /^sudo needs a password here/);
  t.is(sudoRefusal({ enabled: false }, 'sudo: a password is required\n'), undefined);
});
