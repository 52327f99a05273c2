// Built-in playbooks are addressed by name (`scenario-a`); anything that looks like a path is
// imported as a user playbook. Loading goes through tsx (registered by bin/casfleet.js), so user
// playbooks are plain .ts files that need no build step and no change to src/. A playbook is code
// that runs as the invoking user (often root), so whichever way it is named, the file must pass
// the trust rule (src/trust/trust-rule.ts) before it is imported.

import { existsSync, readdirSync } from 'node:fs';
import { register as registerModuleHooks } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { PlaybookError, UsageError } from '../errors.ts';
import { moduleExtension } from '../module-file.ts';
import { assertTrustedPath } from '../trust/trusted-path.ts';
import type { AnyPlaybook } from './define-playbook.ts';

export const BUILTIN_PLAYBOOK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../playbooks');

// Built-in playbooks are compiled alongside the CLI when it runs from dist/ (.js), else .ts.
const BUILTIN_EXTENSION = moduleExtension(import.meta.url);

/** Names of the playbooks shipped in playbooks/. */
export const listBuiltinPlaybooks = (): string[] =>
  readdirSync(BUILTIN_PLAYBOOK_DIR)
    .filter((file) => extname(file) === BUILTIN_EXTENSION)
    .map((file) => file.slice(0, -BUILTIN_EXTENSION.length))
    .sort();

const looksLikePath = (reference: string): boolean =>
  reference.includes('/') || reference.endsWith('.ts') || reference.endsWith('.js') || reference.endsWith('.mjs');

const findPlaybook = (reference: string, cwd: string): string => {
  if (looksLikePath(reference)) {
    const path = resolve(cwd, reference);
    if (!existsSync(path)) throw new UsageError(`playbook file not found: ${path}`);
    return path;
  }
  const builtin = join(BUILTIN_PLAYBOOK_DIR, `${reference}${BUILTIN_EXTENSION}`);
  if (!existsSync(builtin)) {
    throw new UsageError(
      `unknown playbook '${reference}'; built-in playbooks: ${listBuiltinPlaybooks().join(', ')} (or give a path to a .ts file)`,
    );
  }
  return builtin;
};

/** Resolve a playbook reference to the file to import, refusing one that fails the trust rule. */
export const resolvePlaybookPath = (reference: string, cwd = process.cwd()): string => {
  const path = findPlaybook(reference, cwd);
  assertTrustedPath(path, 'file', 'playbook');
  return path;
};

const isFunction = (value: unknown): boolean => typeof value === 'function';

// Shape check of the module's default export; the vars schema itself is a zod object. Strict, so a
// misspelt key fails loudly; the validated module itself is returned (zod would strip keys).
const playbookShape = z.strictObject({
  name: z.string().min(1),
  description: z.string(),
  vars: z.custom<z.ZodObject>((value) => value instanceof z.ZodObject, 'must be a zod object schema (z.object({...}))'),
  steps: z.custom((value) => isFunction(value), 'must be a function (vars) => steps'),
  handlers: z.custom((value) => isFunction(value), 'must be a function (vars) => handlers').optional(),
  exposure: z.custom((value) => isFunction(value), 'must be a function (vars) => { reachable, blocked }').optional(),
  // Validated in detail (with its own error paths) when a run plans its rollout.
  rollout: z.unknown().optional(),
});

const isUnknownExtension = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';

// A playbook's `import … from 'casfleet'` must reach the casfleet that is running, not whichever
// copy the playbook's own folder would resolve to (a project's node_modules/casfleet, a clone's
// stale dist/, or none at all): the playbook's steps are planned and checked by these modules, so
// they must come from the same code and version. Compiled built-ins already reach it through the
// package's self-reference, which resolves to this dist/; every other playbook gets this resolve hook.
const API_URL = new URL(`../index${BUILTIN_EXTENSION}`, import.meta.url).href;
// The URL goes on down the loader chain, so tsx still loads it when it is a .ts source.
const API_HOOKS = `export const resolve = (specifier, context, next) => next(specifier === 'casfleet' ? ${JSON.stringify(API_URL)} : specifier, context);`;
let apiPinned = false;

const pinApiModule = (): void => {
  if (apiPinned) return;
  apiPinned = true;
  registerModuleHooks(`data:text/javascript,${encodeURIComponent(API_HOOKS)}`);
};

const isCompiledBuiltin = (path: string): boolean => BUILTIN_EXTENSION === '.js' && dirname(path) === BUILTIN_PLAYBOOK_DIR;

// The compiled CLI has no TypeScript loader until a .ts playbook needs one: load and register tsx then.
const importModule = async (path: string): Promise<{ default?: unknown }> => {
  if (!isCompiledBuiltin(path)) pinApiModule();
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as { default?: unknown };
  } catch (error) {
    if (!isUnknownExtension(error)) throw error;
    (await import('tsx/esm/api')).register();
    // Node remembers the failed load of this URL; a query makes it a fresh module for the new loader.
    return (await import(`${url}?ts`)) as { default?: unknown };
  }
};

/** Import a playbook module and check its default export. */
export const loadPlaybook = async (reference: string, cwd = process.cwd()): Promise<AnyPlaybook> => {
  const path = resolvePlaybookPath(reference, cwd);
  let module: { default?: unknown };
  try {
    module = await importModule(path);
  } catch (error) {
    // Outside a "type": "module" package, Node loads a .ts playbook as CommonJS, which cannot import
    // casfleet's ES modules.
    const hint =
      (error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_CYCLE_MODULE' || /require\(\) ES Module/.test(String(error))
        ? ` (put a package.json containing {"type": "module"} next to it, or keep it in casfleet's playbooks/)`
        : '';
    throw new PlaybookError(`cannot load playbook ${path}${hint}`, [{ path: '', message: String(error) }], { cause: error });
  }
  const parsed = playbookShape.safeParse(module.default);
  if (!parsed.success) {
    throw new PlaybookError(
      `${path} does not default-export definePlaybook({...})`,
      parsed.error.issues.map((issue) => ({ path: ['default', ...issue.path].join('.'), message: issue.message })),
    );
  }
  return module.default as AnyPlaybook;
};
