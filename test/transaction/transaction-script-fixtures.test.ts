// The exact scripts of a Scenario B transaction (snapshot + dead-man, and the restore it runs), as
// fixtures in test/fixtures/scripts/: a change to them is reviewed as a diff
// (CASFLEET_UPDATE_FIXTURES=1 rewrites them, see CONTRIBUTING "Adding a step").
import { join } from 'node:path';
import test from 'ava';
import { GATE_PROPERTIES, gateHandlers, RESTART_GATE, VPN_FILE } from '../../src/cas/gate-files.ts';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import { FLUSH_HANDLERS } from '../../src/steps/step.ts';
import { ufwRuleSet } from '../../src/steps/ufw-rules.ts';
import { touchedState } from '../../src/transaction/touched-state.ts';
import { beginTransactionCommand, restoreScript } from '../../src/transaction/transaction-command.ts';
import { scriptFixtureProblem } from '../helpers/script-fixture.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scripts');
const ID = 'txn-20261130t150102z-3fa9';
const touched = touchedState(
  [
    { ...propertiesKey({ file: GATE_PROPERTIES, key: 'batm.vpn-skip', value: 'true' }), notify: [RESTART_GATE] },
    { ...fileAbsent({ path: VPN_FILE }), notify: [RESTART_GATE] },
    FLUSH_HANDLERS,
    ufwRuleSet({ defaultIncoming: 'deny', enabled: true, rules: [{ action: 'allow', port: 22, proto: 'tcp', comment: 'ssh' }] }),
  ],
  gateHandlers(),
);

test('the restore script of a Scenario B transaction', (t) => {
  const problem = scriptFixtureProblem(
    join(FIXTURES, 'transaction-restore.json'),
    restoreScript(ID, touched),
    'restoreScript: Scenario B (gate files, ufw files, filter tables, gate restart)',
  );
  t.is(problem, undefined, problem);
});

test('the snapshot and dead-man command of a Scenario B transaction', (t) => {
  const command = beginTransactionCommand({ id: ID, touched, delaySeconds: 300 });
  const problem = scriptFixtureProblem(
    join(FIXTURES, 'transaction-begin.json'),
    command.script,
    'beginTransactionCommand: Scenario B, rollback in 300 s',
  );
  t.is(problem, undefined, problem);
});
