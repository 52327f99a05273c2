// Finds and validates the tool config with cosmiconfig. TypeScript configs load through tsx
// (cosmiconfig 9's own .ts loader writes a temp file beside the config and needs the TS compiler:
// research/deps.md §4.2). Errors in JSON/YAML configs point at file:line:col.
//
// A config may be code (.mjs, .ts) and names the known_hosts file, so where it is looked for and
// who may have written it are security decisions: the search starts in the working directory and
// stops at the first of the user's home and the repository root (a `.git` or `package.json`);
// outside both, only the working directory is searched, so a `.casfleetrc.mjs` dropped in /tmp or
// another parent directory is never picked up. Every file loaded, `$import`ed ones included, must
// pass the trust rule (src/trust/trust-rule.ts) or the command stops.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { ConfigError, isCasfleetError } from '../errors.ts';
import { locate, nodePosition, parseYaml } from '../inventory/yaml-source.ts';
import { assertTrustedPath } from '../trust/trusted-path.ts';
import { type CasfleetConfig, configSchema } from './config-schema.ts';

const SEARCH_PLACES = [
  'package.json',
  '.casfleetrc',
  '.casfleetrc.json',
  '.casfleetrc.yaml',
  '.casfleetrc.yml',
  '.casfleetrc.mjs',
  '.casfleetrc.ts',
  'casfleet.config.json',
  'casfleet.config.yaml',
  'casfleet.config.yml',
  'casfleet.config.mjs',
  'casfleet.config.ts',
];

// tsx is imported only for a TypeScript config: in the start-up graph it cost every run about 70 ms
// of CPU and lengthened the start-up's longest task by about 20 ms.
const loadTs = async (file: string): Promise<unknown> => {
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  const value = module.default ?? module;
  // Outside a "type": "module" package tsx loads the file as CommonJS, so `export default` arrives
  // wrapped once more as { default }.
  const isWrapped = typeof value === 'object' && value !== null && Object.keys(value).join() === 'default';
  return isWrapped ? (value as { default: unknown }).default : value;
};

// Every loader checks the file it is given before reading what is in it.
const trusted =
  (load: Loader): Loader =>
  (file, content) => {
    assertTrustedPath(file, 'file', 'config file');
    return load(file, content);
  };

// package.json also marks the repository root: only one that holds a "casfleet" key is a config.
// (Parsing JSON before the check runs nothing.)
const loadJson: Loader = async (file, content) => {
  const parsed: unknown = await defaultLoaders['.json'](file, content);
  const isConfig = basename(file) !== 'package.json' || (typeof parsed === 'object' && parsed !== null && 'casfleet' in parsed);
  if (isConfig) assertTrustedPath(file, 'file', 'config file');
  return parsed;
};

const LOADERS = {
  '.json': loadJson,
  '.yaml': trusted(defaultLoaders['.yaml']),
  '.yml': trusted(defaultLoaders['.yml']),
  '.mjs': trusted(defaultLoaders['.mjs']),
  '.js': trusted(defaultLoaders['.js']),
  '.cjs': trusted(defaultLoaders['.cjs']),
  '.ts': trusted(loadTs),
  noExt: trusted(defaultLoaders.noExt),
};

const isRepositoryRoot = (dir: string): boolean => existsSync(join(dir, '.git')) || existsSync(join(dir, 'package.json'));

/**
 * The directories searched, nearest first: from `cwd` up to the first of `home` and a repository
 * root; only `cwd` when neither lies on the way up.
 */
export const configSearchDirs = (cwd: string, home: string = homedir()): string[] => {
  const start = resolve(cwd);
  const dirs: string[] = [];
  for (let dir = start; ; dir = dirname(dir)) {
    dirs.push(dir);
    if (dir === resolve(home) || isRepositoryRoot(dir)) return dirs;
    if (dirname(dir) === dir) return [start];
  }
};

export interface LoadedConfig {
  readonly config: CasfleetConfig;
  /** The file it came from, if any. */
  readonly file?: string;
}

const search = async (explorer: ReturnType<typeof cosmiconfig>, dirs: readonly string[]) => {
  for (const dir of dirs) {
    const found = await explorer.search(dir);
    if (found) return found;
  }
  return null;
};

/** Search from `cwd` (see configSearchDirs) or use `explicitFile`, check who wrote it, then validate. */
export const loadConfig = async (cwd: string, explicitFile?: string, home?: string): Promise<LoadedConfig> => {
  // 'none': each call looks in one directory; the walk up is configSearchDirs'.
  const explorer = cosmiconfig('casfleet', { searchPlaces: SEARCH_PLACES, searchStrategy: 'none', loaders: LOADERS });
  let found: Awaited<ReturnType<typeof explorer.load>>;
  try {
    found = explicitFile ? await explorer.load(explicitFile) : await search(explorer, configSearchDirs(cwd, home));
  } catch (error) {
    if (isCasfleetError(error)) throw error;
    throw new ConfigError('cannot read the casfleet config', [{ path: '', message: String(error) }], { cause: error });
  }
  if (!found || found.isEmpty) return { config: {} };
  const parsed = configSchema.safeParse(found.config);
  if (parsed.success) return { config: parsed.data, file: found.filepath };
  // JSON and YAML configs can point at file:line:col; JS/TS configs only at the key path.
  const source = /\.(json|ya?ml)$|rc$/.test(found.filepath)
    ? parseYaml(readFileSync(found.filepath, 'utf8'), found.filepath).source
    : undefined;
  throw new ConfigError(
    `invalid casfleet config ${found.filepath}`,
    parsed.error.issues.map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
      const located = source ? locate(source, path) : undefined;
      const position =
        source && located
          ? nodePosition(source, issue.code === 'unrecognized_keys' ? located.keyNode : located.node, located.keyNode)
          : undefined;
      return { ...(position ? { position } : {}), path: path.map(String).join('.'), message: issue.message };
    }),
  );
};
