// Finds and validates the tool config with cosmiconfig. TypeScript configs load through tsx
// (cosmiconfig 9's own .ts loader writes a temp file beside the config and needs the TS compiler:
// research/deps.md §4.2). Errors in JSON/YAML configs point at file:line:col.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { cosmiconfig } from 'cosmiconfig';
import { tsImport } from 'tsx/esm/api';
import { ConfigError } from '../errors.ts';
import { locate, nodePosition, parseYaml } from '../inventory/yaml-source.ts';
import { configSchema, type CasfleetConfig } from './config-schema.ts';

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

const loadTs = async (file: string): Promise<unknown> => {
  const module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  const value = module.default ?? module;
  // Outside a "type": "module" package tsx loads the file as CommonJS, so `export default` arrives
  // wrapped once more as { default }.
  const isWrapped = typeof value === 'object' && value !== null && Object.keys(value).join() === 'default';
  return isWrapped ? (value as { default: unknown }).default : value;
};

export interface LoadedConfig {
  readonly config: CasfleetConfig;
  /** The file it came from, if any. */
  readonly file?: string;
}

/** Search from `cwd` up to the project root (or use `explicitFile`), then validate. */
export const loadConfig = async (cwd: string, explicitFile?: string): Promise<LoadedConfig> => {
  const explorer = cosmiconfig('casfleet', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'project',
    loaders: { '.ts': loadTs },
  });
  let found;
  try {
    found = explicitFile ? await explorer.load(explicitFile) : await explorer.search(cwd);
  } catch (error) {
    throw new ConfigError('cannot read the casfleet config', [{ path: '', message: String(error) }], { cause: error });
  }
  if (!found || found.isEmpty) return { config: {} };
  const parsed = configSchema.safeParse(found.config);
  if (parsed.success) return { config: parsed.data, file: found.filepath };
  // JSON and YAML configs can point at file:line:col; JS/TS configs only at the key path.
  const source = /\.(json|ya?ml)$|rc$/.test(found.filepath) ? parseYaml(readFileSync(found.filepath, 'utf8'), found.filepath).source : undefined;
  throw new ConfigError(
    `invalid casfleet config ${found.filepath}`,
    parsed.error.issues.map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
      const located = source ? locate(source, path) : undefined;
      const position = source && located ? nodePosition(source, issue.code === 'unrecognized_keys' ? located.keyNode : located.node, located.keyNode) : undefined;
      return { ...(position ? { position } : {}), path: path.map(String).join('.'), message: issue.message };
    }),
  );
};
