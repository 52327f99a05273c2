import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  AuthError,
  CasfleetError,
  ConnectError,
  FactError,
  HostKeyError,
  RemoteCommandError,
  StepPlanError,
  SudoError,
} from '../../src/errors.ts';
import { classifyError, ERROR_KINDS, type ErrorKind, errorInfoSchema, internalError } from '../../src/report/error-info.ts';

test('an error class that knows its kind decides it; the caller says the rest', (t) => {
  const cases: Array<[unknown, ErrorKind]> = [
    [new HostKeyError('key changed'), 'host-key'],
    [new AuthError('authentication failed'), 'auth'],
    [new ConnectError('connection refused'), 'connect'],
    [new SudoError('sudo rejected the password', 1, ''), 'sudo'],
    [new FactError('fact ufw: unparsable'), 'fact'],
    [new StepPlanError('no SSH allow'), 'plan'],
    // A remote command that failed is a fact error while gathering and an apply error while changing.
    [new RemoteCommandError('channel closed', null, ''), 'verify'],
    [new CasfleetError('other'), 'verify'],
    ['a string', 'verify'],
  ];
  for (const [error, kind] of cases) t.is(classifyError(error, 'verify').kind, kind, String(error));
  t.deepEqual(classifyError(new StepPlanError('no SSH allow'), 'apply'), { kind: 'plan', message: 'no SSH allow' });
});

test('an unexpected exception is internal, says it is a bug and keeps the stack', (t) => {
  const info = internalError(new RangeError('Invalid array length'), "the planner of 'x'");
  t.is(info.kind, 'internal');
  t.regex(
    info.message,
    /^internal error in the planner of 'x': RangeError: Invalid array length \(a bug in casfleet or the playbook's code, not a refusal/,
  );
  t.regex(info.stack ?? '', /^RangeError: Invalid array length\n\s+at /);
  t.deepEqual(internalError('thrown string', 'y'), {
    kind: 'internal',
    message: "internal error in y: string: thrown string (a bug in casfleet or the playbook's code, not a refusal; -v prints the stack)",
  });
});

test('the README documents every kind, one line each, and the schema refuses others', (t) => {
  const documented = [...readFileSync('README.md', 'utf8').matchAll(/^- `([a-z-]+)`: /gm)].map((match) => match[1]);
  for (const kind of ERROR_KINDS) t.true(documented.includes(kind), kind);
  t.false(errorInfoSchema.safeParse({ kind: 'timeout', message: 'x' }).success);
  t.false(errorInfoSchema.safeParse({ kind: 'plan' }).success);
});
