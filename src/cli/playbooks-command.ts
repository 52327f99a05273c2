// casfleet playbooks [NAME]: the built-in playbooks with their description and vars, read from
// each playbook's own zod schema so the listing can never drift from what is validated.

import { z } from 'zod';
import { UsageError } from '../errors.ts';
import type { AnyPlaybook } from '../playbook/define-playbook.ts';
import { listBuiltinPlaybooks, loadPlaybook } from '../playbook/load-playbook.ts';
import { isSecretVar } from '../playbook/secret-vars.ts';
import { EXIT_OK } from './exit-codes.ts';
import { parseCommandLine } from './parse-options.ts';

export const PLAYBOOKS_HELP = `Usage: casfleet playbooks [NAME|PATH]

List the built-in playbooks, or show one playbook's vars (name, type, default, meaning).

Examples:
  casfleet playbooks
  casfleet playbooks scenario-b
`;

const describeVar = (playbook: AnyPlaybook, key: string, schema: z.ZodType): string => {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as {
    type?: unknown;
    enum?: unknown[];
    default?: unknown;
    description?: string;
  };
  const type = json.enum
    ? json.enum.map((value) => JSON.stringify(value)).join(' | ')
    : Array.isArray(json.type)
      ? json.type.join('|')
      : String(json.type ?? 'any');
  const optional = schema.safeParse(undefined).success;
  const defaultText = json.default === undefined ? '' : ` (default ${JSON.stringify(json.default)})`;
  const secret = isSecretVar(playbook, key) ? ' (secret)' : '';
  return `  ${key}${optional ? '' : ' (required)'}${secret}: ${type}${defaultText}${json.description ? `\n      ${json.description}` : ''}`;
};

export const playbooksCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, { help: { type: 'boolean', short: 'h' } } as const, 'playbooks');
  if (values.help) {
    process.stdout.write(PLAYBOOKS_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError('playbooks takes at most one playbook name');
  const names = positionals.length === 1 ? positionals : listBuiltinPlaybooks();
  const lines: string[] = [];
  for (const name of names) {
    const playbook = await loadPlaybook(name);
    lines.push(`${playbook.name}: ${playbook.description}`);
    if (positionals.length === 1) {
      lines.push(
        '',
        'vars:',
        ...Object.entries(playbook.vars.shape).map(([key, schema]) => describeVar(playbook, key, schema as z.ZodType)),
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
};
