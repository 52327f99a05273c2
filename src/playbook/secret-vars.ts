// Which vars hold secrets, so their values are masked wherever casfleet shows -e arguments (the
// run record keeps them raw: a resume needs them). A playbook marks a var in its schema with
// `.meta({ secret: true })`; a var is also taken as secret when its name says so (password, passwd,
// pass, passphrase, secret, token, key, credential(s), as a word of camelCase or snake_case:
// `apiKey`, `ansible_become_pass`), unless its schema says `.meta({ secret: false })`.

import type { z } from 'zod';
import type { AnyPlaybook } from './define-playbook.ts';

const SECRET_WORDS = new Set(['password', 'passwd', 'pass', 'passphrase', 'secret', 'token', 'key', 'credential', 'credentials', 'apikey']);

/** `apiKey`, `api_key`, `API-KEY` → api, key. */
const words = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** Whether a var name reads like a secret. */
export const looksSecret = (name: string): boolean => words(name).some((word) => SECRET_WORDS.has(word));

interface SchemaInternals {
  readonly _zod?: { readonly def?: { readonly innerType?: unknown; readonly in?: unknown; readonly out?: unknown } };
  readonly meta?: () => Record<string, unknown> | undefined;
}

/**
 * The schema's own word on secrecy: `.meta({ secret })` on the schema or on what it wraps
 * (`.optional()`, `.default()`, z.preprocess…); undefined when it says nothing.
 */
export const schemaSecrecy = (schema: z.ZodType): boolean | undefined => {
  const pending: unknown[] = [schema];
  for (let visited = 0; pending.length > 0 && visited < 32; visited += 1) {
    const current = pending.shift() as SchemaInternals | undefined;
    const secret = current?.meta?.()?.secret;
    if (typeof secret === 'boolean') return secret;
    const def = current?._zod?.def;
    pending.push(...[def?.innerType, def?.in, def?.out].filter((inner) => inner !== undefined));
  }
  return undefined;
};

/** Whether `name` is a secret for `playbook` (see the module comment). */
export const isSecretVar = (playbook: AnyPlaybook, name: string): boolean => {
  const schema = (playbook.vars.shape as Record<string, z.ZodType | undefined>)[name];
  return (schema ? schemaSecrecy(schema) : undefined) ?? looksSecret(name);
};

/** The keys of `key=value` -e arguments whose values are secret for `playbook`, in order, once each. */
export const secretExtraVarKeys = (playbook: AnyPlaybook, args: readonly string[]): string[] => {
  const keys = args.filter((arg) => !arg.startsWith('@') && arg.includes('=')).map((arg) => arg.slice(0, arg.indexOf('=')).trim());
  return [...new Set(keys)].filter((key) => isSecretVar(playbook, key));
};
