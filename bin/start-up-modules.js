// The modules the CLI evaluates before its own graph, in order, one per task (bin/casfleet.js).
// Evaluating a module graph is one synchronous task: inside the CLI's graph its CommonJS
// dependencies (ssh2 alone about 35 ms, yaml about 25 ms) made start-up one event-loop stall of over
// 100 ms. ssh2 evaluated whole was still one stall of 75 ms on a slower machine (and zod's core 40
// ms), so their heaviest parts come first, leaves before the modules that require them.

/** Parts of a dependency: warm-ups only (test/start-up-modules.test.ts checks they still resolve). */
export const DEPENDENCY_PARTS = [
  ...['constants', 'utils', 'crypto', 'keyParser', 'kex', 'handlers', 'Protocol', 'SFTP'].map((part) => `ssh2/lib/protocol/${part}.js`),
  'ssh2/lib/agent.js',
  'ssh2/lib/client.js',
  'zod/v4/core',
];

/** The dependencies themselves, whole. */
export const DEPENDENCIES = ['ssh2', 'node-ssh', 'yaml', 'cosmiconfig', 'zod', 'listr2'];
