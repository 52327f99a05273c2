// The transaction's host scripts without a host: what the steps declare becomes the snapshot, the
// restore and the restarts after it; every script is valid sh. test/lab/transaction.test.ts runs
// them for real.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { GATE_PROPERTIES, gateHandlers, RESTART_GATE, VPN_FILE } from '../../src/cas/gate-files.ts';
import { sh } from '../../src/command/shell.ts';
import { UFW_FILES } from '../../src/facts/ufw.ts';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import { defineStep, FLUSH_HANDLERS, noChange } from '../../src/steps/step.ts';
import { ufwRuleSet } from '../../src/steps/ufw-rules.ts';
import { touchedState } from '../../src/transaction/touched-state.ts';
import {
  beginTransactionCommand,
  parseBeginOutput,
  restoreScript,
  snapshotDir,
  transactionId,
} from '../../src/transaction/transaction-command.ts';

const scenarioBItems = [
  { ...propertiesKey({ file: GATE_PROPERTIES, key: 'batm.vpn-skip', value: 'true' }), notify: [RESTART_GATE] },
  { ...fileAbsent({ path: VPN_FILE }), notify: [RESTART_GATE] },
  FLUSH_HANDLERS,
  ufwRuleSet({ defaultIncoming: 'deny', enabled: true, rules: [{ action: 'allow', port: 22, proto: 'tcp', comment: 'ssh' }] }),
];

const syntaxError = (script: string): string => {
  const result = spawnSync('/bin/sh', ['-n', '-c', script], { encoding: 'utf8' });
  return result.status === 0 ? '' : result.stderr;
};

test('what the steps declare is what a transaction covers, with the handlers their files notify', (t) => {
  const touched = touchedState(scenarioBItems, gateHandlers());
  t.deepEqual(touched.files, [GATE_PROPERTIES, VPN_FILE, ...UFW_FILES]);
  t.true(touched.firewall);
  t.deepEqual(
    touched.restarts.map(({ name, files, command }) => ({ name, files, command: command.display })),
    [{ name: RESTART_GATE, files: [GATE_PROPERTIES, VPN_FILE], command: '/batm/batm-manage stop gate && /batm/batm-manage start gate' }],
  );
});

test('a step that declares nothing adds nothing, and a notify without files restarts nothing', (t) => {
  const quiet = defineStep({ name: 'quiet', facts: {}, plan: () => noChange('nothing'), notify: [RESTART_GATE] });
  t.deepEqual(touchedState([quiet], gateHandlers()), { files: [], firewall: false, restarts: [] });
});

test('the restore puts each file back and restarts gate only when a gate file came back; tables only with a firewall step', (t) => {
  const script = restoreScript('txn-1', touchedState(scenarioBItems, gateHandlers()));
  t.is(syntaxError(script), '');
  t.true(script.includes('restore_file /batm/config/gate.properties && { restart_0=yes; }'));
  t.true(script.includes('restore_file /etc/ufw/user.rules || :'));
  t.true(script.includes('iptables-restore -w 30 <"$snap"/iptables.filter'));
  t.true(script.includes('ip6tables-restore -w 30 <"$snap"/ip6tables.filter'));
  t.true(script.includes('. /batm/vpngen/firewall.rules'));
  t.regex(script, /if \[ -n "\$\{restart_0:-\}" \]; then\n {2}echo 'ran: \/batm\/batm-manage stop gate && \/batm\/batm-manage start gate'/);
  t.false(/iptables|firewall\.rules/.test(restoreScript('txn-2', touchedState(scenarioBItems.slice(0, 2), gateHandlers()))));
  // nat is never named: iptables-restore replaces only the tables in its input (the filter table).
  t.false(script.includes('-t nat'));
});

test('the begin command snapshots, then arms the timer with the restore as its script, all in one script', (t) => {
  const command = beginTransactionCommand({
    id: 'txn-20261130t150102z-3fa9',
    touched: touchedState(scenarioBItems, gateHandlers()),
    delaySeconds: 120,
  });
  t.is(syntaxError(command.script), '');
  const dir = snapshotDir('txn-20261130t150102z-3fa9');
  t.is(dir, '/var/backups/casfleet/transactions/txn-20261130t150102z-3fa9');
  const copied = command.script.indexOf(`for f in ${GATE_PROPERTIES} ${VPN_FILE} ${UFW_FILES.join(' ')}; do`);
  t.true(copied >= 0);
  t.true(copied < command.script.indexOf('cp -pP --parents'));
  t.true(command.script.indexOf('cp -pP --parents') < command.script.indexOf('armed $id $due $mechanism'));
  t.true(command.script.includes('iptables-save -t filter >"$snap/iptables.filter"'));
  t.true(command.script.includes(`exec /bin/sh ${dir}/restore.sh`));
  t.is(
    command.display,
    `snapshot ${[GATE_PROPERTIES, VPN_FILE, ...UFW_FILES, 'filter tables'].join(', ')} to ${dir}; arm rollback in 120s`,
  );
});

test('what begin printed gives the snapshot and the due time; anything less is no transaction', (t) => {
  t.deepEqual(parseBeginOutput('snapshot /var/backups/casfleet/transactions/txn-1\narmed txn-1 1796050473 process\n'), {
    snapshot: '/var/backups/casfleet/transactions/txn-1',
    due: 1796050473,
    mechanism: 'process',
  });
  t.is(parseBeginOutput('snapshot /x\n'), undefined);
  t.is(parseBeginOutput('armed txn-1 1 process\n'), undefined);
});

test('transaction ids are timer ids that sort by time', (t) => {
  const id = transactionId(new Date('2026-11-30T15:01:02.345Z'), () => 0.25);
  t.is(id, 'txn-20261130t150102z-4000');
  t.true(transactionId(new Date('2026-11-30T15:01:03Z'), () => 0) > id);
  t.is(syntaxError(sh`echo ${id}`.script), '');
});
