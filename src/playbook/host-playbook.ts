// What a playbook's `steps` and `handlers` build for one host, checked before any host is contacted.
// A playbook's shape is only known once it ran on a host's vars, and TypeScript does not hold a
// playbook to its types (a .js playbook, an `as never`, a notify name is just a string): a step
// that notifies a handler the playbook does not have would otherwise only fail once that host
// was changed, with its handler never run.

import { z } from 'zod';
import type { SourceIssue } from '../errors.ts';
import { closestName } from '../inventory/closest-name.ts';
import { isFlushHandlers } from '../steps/step.ts';

const isFunction = (value: unknown): boolean => typeof value === 'function';

// Loose: steps are built by spreading building blocks (`{ ...propertiesKey(…), notify }`), and the
// runner reads only these keys.
const stepShape = z.looseObject(
  {
    name: z.string({ error: 'needs a name (a string)' }).min(1, 'needs a name (a string)'),
    facts: z.record(z.string(), z.looseObject({ id: z.string(), script: z.string() }), { error: 'must be an object of facts' }),
    plan: z.custom(isFunction, 'must be a function (facts) => plan'),
    notify: z.array(z.string(), { error: 'must be an array of handler names' }).optional(),
  },
  { error: 'must be a step (an object with name, facts and plan) or FLUSH_HANDLERS' },
);

const handlerShape = z.looseObject(
  {
    name: z.string({ error: 'needs a name (a string)' }),
    command: z.looseObject({ script: z.string() }, { error: 'must be a remote command' }),
    facts: z.record(z.string(), z.looseObject({ id: z.string(), script: z.string() }), { error: 'must be an object of facts' }),
    check: z.custom(isFunction, 'must be a function (facts) => problem | undefined'),
  },
  { error: 'must be a handler (an object with name, command, facts and check)' },
);

const handlersShape = z.record(z.string(), handlerShape, { error: 'must return an object of handlers by name' });

const issuePath = (path: readonly PropertyKey[]): string =>
  path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');

const notifyProblem = (playbook: string, name: string, handlers: readonly string[]): string => {
  const guess = closestName(name, handlers);
  const known = handlers.length === 0 ? 'it has no handlers' : `its handlers: ${handlers.map((each) => `'${each}'`).join(', ')}`;
  return `notifies '${name}', which is no handler of playbook ${playbook}${guess ? ` (did you mean '${guess}'?)` : ''}; ${known}`;
};

/**
 * The problems with what a playbook's `steps` and `handlers` returned for one host: not an array of
 * steps (or FLUSH_HANDLERS), a step or handler without what the runner needs, a `notify` naming no
 * handler of the playbook. Paths read `steps[2]('name').notify[0]`; [] when all is well.
 */
export const hostPlaybookIssues = (playbook: string, items: unknown, handlers: unknown): SourceIssue[] => {
  const issues: SourceIssue[] = [];
  const parsedHandlers = handlersShape.safeParse(handlers);
  if (!parsedHandlers.success) {
    for (const issue of parsedHandlers.error.issues) issues.push({ path: `handlers${issuePath(issue.path)}`, message: issue.message });
  }
  const handlerNames = parsedHandlers.success ? Object.keys(parsedHandlers.data) : [];
  if (!Array.isArray(items)) {
    issues.push({ path: 'steps', message: 'must return an array of steps (and FLUSH_HANDLERS)' });
    return issues;
  }
  items.forEach((item: unknown, index) => {
    if (isFlushHandlers(item)) return;
    const parsed = stepShape.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push({ path: `steps[${index}]${issuePath(issue.path)}`, message: issue.message });
      return;
    }
    const at = `steps[${index}]('${parsed.data.name}')`;
    // Only a handler list that could be read says what is unknown.
    if (!parsedHandlers.success) return;
    (parsed.data.notify ?? []).forEach((name, position) => {
      if (!handlerNames.includes(name))
        issues.push({ path: `${at}.notify[${position}]`, message: notifyProblem(playbook, name, handlerNames) });
    });
  });
  return issues;
};
