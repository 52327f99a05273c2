// Host text reaches the operator's terminal with its escape sequences made visible, never obeyed.
import test from 'ava';
import { errorInfo } from '../../src/report/error-info.ts';
import { COLOR, formatStepEvent, formatUnreachable, PLAIN } from '../../src/report/format-event.ts';
import { formatPlanGroups, groupPlans } from '../../src/report/plan-groups.ts';
import { printable } from '../../src/report/terminal-text.ts';
import { formatRunDetails } from '../../src/run-records/format-run.ts';
import { recordHostResult } from '../../src/run-records/run-record-updates.ts';
import { at, counts, haltedRecord } from '../run-records/record-fixture.ts';

// Clear the screen, set the window title (OSC), write the clipboard (OSC 52), an 8-bit CSI, a
// carriage return that would hide the start of the line, and a right-to-left override.
const HOSTILE = 'ok\u001b[2J\u001b]0;pwned\u0007\u001b]52;c;ZWNobyBoaQ==\u0007\u009b31m\rfake\u202etxt\ttab';
const SHOWN = 'ok\\x1b[2J\\x1b]0;pwned\\x07\\x1b]52;c;ZWNobyBoaQ==\\x07\\x9b31m\\x0dfake\\u202etxt\ttab';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the control characters that must not get through
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('control characters but tab and newline, and bidi overrides, are shown as escapes', (t) => {
  t.is(printable(HOSTILE), SHOWN);
  t.is(printable('line one\nline two\tcafé ₿'), 'line one\nline two\tcafé ₿');
});

test('a step result prints no control sequence a host sent, in errors, changes, warnings, reasons or diffs', (t) => {
  const lines = formatStepEvent(
    {
      type: 'step',
      host: 'cas-001',
      step: 'restart batm gate',
      kind: 'handler',
      status: 'failed',
      changes: [`~ key=${HOSTILE}`],
      warnings: [HOSTILE],
      reason: HOSTILE,
      diff: { before: `a=${HOSTILE}`, after: 'a=1' },
      error: errorInfo('verify', `gate is stopped (batm-manage info: ${HOSTILE})`),
      check: false,
      durationMs: 1,
    },
    PLAIN,
  );
  t.false(
    lines.some((line) => unsafe.test(line)),
    lines.join('\n'),
  );
  t.true(lines.some((line) => line.includes(SHOWN)));
  // casfleet's own colours still work.
  t.true(
    formatUnreachable({ type: 'unreachable', host: 'cas-001', error: errorInfo('connect', HOSTILE) }, COLOR)[0]!.startsWith('\u001b[31m'),
  );
  t.false(
    formatUnreachable({ type: 'unreachable', host: 'cas-001', error: errorInfo('connect', HOSTILE) }, PLAIN).some((line) =>
      unsafe.test(line),
    ),
  );
});

test('the fleet-grouped plan and runs show print host errors and summaries safely too', (t) => {
  const plan = formatPlanGroups(
    groupPlans([
      { host: 'cas-001', outcome: 'failed', changes: [], error: HOSTILE },
      { host: 'cas-002', outcome: 'planned', changes: [{ step: 'x', summaries: [`+ ${HOSTILE}`] }] },
    ]),
    PLAIN,
  );
  t.false(
    plan.some((line) => unsafe.test(line)),
    plan.join('\n'),
  );
  const record = recordHostResult(haltedRecord(), 'cas-03', { counts: counts({ failed: 1 }), error: errorInfo('apply', HOSTILE) }, at(200));
  const details = formatRunDetails({
    record,
    live: false,
    resume: { resumable: false, reason: 'x' },
    resumeCommand: '',
    inventoryShown: 'inv',
  });
  t.false(
    details.some((line) => unsafe.test(line)),
    details.join('\n'),
  );
  t.true(details.some((line) => line.includes('ok\\x1b[2J')));
});
