// The modules the CLI evaluates before its own graph, in order, one per task (bin/casfleet.js).
// Evaluating a module graph is one synchronous task: inside the CLI's graph its CommonJS
// dependencies (ssh2 alone about 35 ms, yaml about 25 ms) made start-up one event-loop stall of over
// 100 ms. ssh2 evaluated whole was still one stall of 75 ms on a slower machine (and zod's core 40
// ms), so their heaviest parts come first, leaves before the modules that require them. These are
// warm-ups only (test/start-up-modules.test.ts checks they still resolve).

/**
 * CommonJS parts, loaded with require(): import() of a CommonJS file costs a scan of its source for
 * export names (and, in a package without a "type", a check for module syntax), which for these
 * ten made start-up 150-200 ms of CPU dearer than ssh2 loaded whole.
 */
export const COMMONJS_PARTS = [
  ...['constants', 'utils', 'crypto', 'keyParser', 'kex', 'handlers', 'Protocol', 'SFTP'].map((part) => `ssh2/lib/protocol/${part}.js`),
  'ssh2/lib/agent.js',
  'ssh2/lib/client.js',
];

/** ES module parts, loaded with import(). */
export const MODULE_PARTS = ['zod/v4/core'];

/**
 * The dependencies themselves, whole. Not listr2: its graph evaluates in a few ms, and only the live
 * display loads it (a --json run never does).
 */
export const DEPENDENCIES = ['ssh2', 'node-ssh', 'yaml', 'cosmiconfig', 'zod'];
