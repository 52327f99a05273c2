// The exact scripts of the on-host timers (arm, disarm, fire now, forget), as fixtures in
// test/fixtures/scripts/: a change to them is reviewed as a diff (CASFLEET_UPDATE_FIXTURES=1
// rewrites them, see CONTRIBUTING "Adding a step").
import { join } from 'node:path';
import test from 'ava';
import { armTimerCommand, disarmTimerCommand, fireTimerNowCommand, forgetTimerCommand } from '../../src/host-timer/timer-commands.ts';
import { scriptFixtureProblem } from '../helpers/script-fixture.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scripts');
const ID = 'pairing-7742';

const cases: ReadonlyArray<readonly [file: string, description: string, script: string]> = [
  [
    'timer-arm.json',
    'armTimerCommand: a 600 s timer',
    armTimerCommand({ id: ID, delaySeconds: 600, script: 'ufw --force delete allow 7742/tcp' }).script,
  ],
  [
    'timer-arm-forget.json',
    'armTimerCommand: a timer that forgets itself once fired',
    armTimerCommand({ id: ID, delaySeconds: 600, script: 'true', forgetWhenFired: true }).script,
  ],
  ['timer-disarm.json', 'disarmTimerCommand: default wait for a firing timer', disarmTimerCommand(ID).script],
  ['timer-fire-now.json', 'fireTimerNowCommand: wait 30 s for the script to end', fireTimerNowCommand(ID, 30).script],
  ['timer-forget.json', 'forgetTimerCommand', forgetTimerCommand(ID).script],
];

for (const [file, description, script] of cases) {
  test(description, (t) => {
    const problem = scriptFixtureProblem(join(FIXTURES, file), script, description);
    t.is(problem, undefined, problem);
  });
}
