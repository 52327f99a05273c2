#!/usr/bin/env node
// Entry point. An installed package has only the compiled CLI (dist/). In a clone it runs dist/
// while that is up to date with the sources (fast start), otherwise the TypeScript sources through
// tsx, so a source edit never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { COMMONJS_PARTS, DEPENDENCIES, MODULE_PARTS } from './start-up-modules.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = `${root}dist/.build-stamp`;

const newestSource = (dir) => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
};

const isClone = existsSync(`${root}src`);

const isBuildFresh = () =>
  existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(newestSource(`${root}src`), newestSource(`${root}playbooks`));

// One module graph per task, so start-up is a row of short event-loop stalls, not one long one. A
// part a later release of its package moves is skipped: the package then loads in one piece.
const require = createRequire(import.meta.url);
const turn = () => new Promise((resolve) => setImmediate(resolve));
for (const part of COMMONJS_PARTS) {
  try {
    require(part);
  } catch {
    // moved in a later release: its package loads in one piece below
  }
  await turn();
}
for (const part of MODULE_PARTS) await import(part).catch(() => undefined);
for (const dependency of DEPENDENCIES) await import(dependency);

let main;
if (!isClone || (process.env.CASFLEET_FROM_SOURCE !== '1' && isBuildFresh())) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
