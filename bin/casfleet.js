#!/usr/bin/env node
// Entry point. An installed package has only the compiled CLI (dist/). In a clone it runs dist/
// while that is up to date with the sources (fast start), otherwise the TypeScript sources through
// tsx, so a source edit never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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

// Evaluating a module graph is one synchronous task. Inside the CLI's graph, its CommonJS
// dependencies (ssh2 alone about 35 ms, yaml about 25 ms) made start-up one event-loop stall of over
// 100 ms; evaluated first, one per task, each is a short stall of its own and the CLI's graph finds
// them ready.
for (const dependency of ['ssh2', 'node-ssh', 'yaml', 'cosmiconfig', 'zod', 'listr2']) await import(dependency);

let main;
if (!isClone || (process.env.CASFLEET_FROM_SOURCE !== '1' && isBuildFresh())) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
