// become: sudo -n without a password, sudo -k -S with it on stdin, and what sudo's refusals mean.
import test from 'ava';
import { becomeStdin, quote, SUDO_PROMPT, sh, sudoRefusal, withBecome, withoutBecomeStart } from '../../src/command/shell.ts';

const command = sh`ufw status`;
// What the command prints first under sudo (withBecome), so a refusal is told from a failure.
const STARTED = '\u001ecasfleet-become\n';
const inner = quote(`printf '%s\\n' '${STARTED.trim()}' >&2\nufw status`);

test('without a password sudo never waits for one', (t) => {
  t.is(withBecome(command, { enabled: true }).script, `sudo -n -- sh -c ${inner}`);
  t.is(withBecome(command, { enabled: true }).display, "sudo -n -- sh -c 'ufw status'");
  t.is(becomeStdin({ enabled: true }, 'data'), 'data');
});

test('with a password: sudo -k -S with a private prompt, the password only as the first stdin line', (t) => {
  const become = { enabled: true, user: 'batm', password: 'pa ss' };
  const wrapped = withBecome(command, become);
  t.is(wrapped.script, `sudo -k -S -p '[casfleet sudo password]' -u batm -- sh -c ${inner}`);
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
  t.is(sudoRefusal(withPassword, `${SUDO_PROMPT}${STARTED}ufw: error`), undefined);
  t.regex(sudoRefusal({ enabled: true }, 'sudo: a password is required\n') ?? '', /^sudo needs a password here/);
  t.is(sudoRefusal({ enabled: false }, 'sudo: a password is required\n'), undefined);
});

test('without its start marker the command never ran: sudo refused, in whatever language it said why', (t) => {
  t.is(
    sudoRefusal({ enabled: true }, 'sudo: Ein Passwort ist notwendig\n'),
    'sudo did not run the command (sudo: Ein Passwort ist notwendig); if it needs a password here, give it with -K/--ask-become-pass, CASFLEET_BECOME_PASSWORD or ansible_become_password',
  );
  t.is(
    sudoRefusal({ enabled: true, password: 'x' }, `${SUDO_PROMPT}ops ist nicht in der sudoers-Datei.\n`),
    'sudo did not run the command (ops ist nicht in der sudoers-Datei.)',
  );
  // The command ran (and may itself have run sudo, or failed): not a refusal.
  t.is(sudoRefusal({ enabled: true }, `${STARTED}sudo: a password is required\n`), undefined);
  t.is(withoutBecomeStart(`${SUDO_PROMPT}${STARTED}ufw: error\n`), `${SUDO_PROMPT}ufw: error\n`);
});
