// `npm run faults`: the fault suite on the lab, apart from `npm test` (minutes of dead-man timers
// and blackholed connections). Each file brings its own lab; files and the tests in them run at once.
export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  files: ['test/faults/**/*.fault.ts'],
  concurrency: 4,
  timeout: '10m',
};
