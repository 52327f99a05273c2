import test from 'ava';
import { parseBatmInfo } from '../../src/facts/batm.ts';
import { checkBatmRunning, restartBatmService } from '../../src/steps/batm-service.ts';

const info = (...lines: string[]) =>
  parseBatmInfo(['batm-manage yes', 'exit 0', ...lines.map((line) => `| ${line}`), 'end', ''].join('\n'));

test('restart is stop && start (no restart verb is documented)', (t) => {
  const handler = restartBatmService('gate');
  t.is(handler.name, 'restart batm gate');
  t.is(handler.command.script, '/batm/batm-manage stop gate && /batm/batm-manage start gate');
  t.deepEqual(Object.keys(handler.facts), ['batm']);
});

test('the check passes when info shows the service running', (t) => {
  t.is(restartBatmService('gate').check({ batm: info('Gate: running', 'Master: stopped') }), undefined);
});

test('the check reports a stopped service with what info printed', (t) => {
  t.regex(checkBatmRunning('gate', info('Gate: stopped')) ?? '', /gate is stopped after the restart \(batm-manage info: Gate: stopped\)/);
});

test('the check reports output it cannot read instead of guessing', (t) => {
  t.regex(checkBatmRunning('gate', info('something else')) ?? '', /does not show gate's state: something else/);
});

test('the check fails when batm-manage is missing', (t) => {
  t.regex(checkBatmRunning('gate', parseBatmInfo('batm-manage no\nend\n')) ?? '', /does not exist/);
});

test('an unknown service is refused at definition time', (t) => {
  t.throws(() => restartBatmService('server' as never), { message: /invalid arguments for restartBatmService/ });
});
