// The modules the CLI evaluates one per task before its own graph (bin/start-up-modules.js). A part
// that no longer resolves is skipped at start-up without a word, so it is caught here instead: after
// an update of the pinned dependency, the list must follow the package.
import { createRequire } from 'node:module';
import test from 'ava';
// @ts-expect-error: plain JavaScript of the entry point, without declarations
import { COMMONJS_PARTS, DEPENDENCIES, MODULE_PARTS } from '../bin/start-up-modules.js';
import pkg from '../package.json' with { type: 'json' };

const commonjsParts = COMMONJS_PARTS as readonly string[];
const moduleParts = MODULE_PARTS as readonly string[];
const parts = [...commonjsParts, ...moduleParts];
const dependencies = DEPENDENCIES as readonly string[];
const requireFromBin = createRequire(new URL('../bin/casfleet.js', import.meta.url));
const packageOf = (specifier: string): string => specifier.split('/')[0] ?? specifier;

test('every part resolves from bin/ and belongs to a dependency loaded whole after it', (t) => {
  for (const part of parts) {
    t.notThrows(() => (commonjsParts.includes(part) ? requireFromBin.resolve(part) : import.meta.resolve(part)), part);
    t.true(dependencies.includes(packageOf(part)), `${part}: its package is not in DEPENDENCIES`);
  }
});

test('the whole dependencies are the runtime dependencies the CLI starts with, each a pinned one', (t) => {
  for (const dependency of dependencies) t.true(dependency in pkg.dependencies, dependency);
});

test('the CommonJS parts are CommonJS files their package itself loads, so warming them up saves its evaluation', (t) => {
  for (const dependency of new Set(commonjsParts.map(packageOf))) requireFromBin(dependency);
  const loaded = Object.keys(requireFromBin.cache);
  for (const part of commonjsParts) t.true(loaded.includes(requireFromBin.resolve(part)), part);
});

test('parts come before the modules that require them: each ssh2 part is loaded by a later one or by ssh2', (t) => {
  const ssh2Parts = commonjsParts.filter((p) => packageOf(p) === 'ssh2');
  for (const [index, part] of ssh2Parts.entries()) {
    const path = requireFromBin.resolve(part);
    const later = [...ssh2Parts.slice(index + 1), 'ssh2'].map((p) => requireFromBin.cache[requireFromBin.resolve(p)]);
    const requiredBy = later.some((module) => module?.children.some((child) => child.id === path));
    t.true(requiredBy, `${part} is required by no later part nor by ssh2`);
  }
});
