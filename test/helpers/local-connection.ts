// A Connection that runs scripts with the local /bin/sh: real shell semantics (exit codes, stdin,
// quoting) for testing the runner's protocol and pipeline without a remote host. The lab tests
// cover the same code over real SSH.
import { spawn } from 'node:child_process';
import type { Connection, ExecOptions, ExecResult } from '../../src/ssh/connection.ts';

export const createLocalConnection = (host = 'local'): Connection & { readonly scripts: string[] } => {
  const scripts: string[] = [];
  return {
    host,
    scripts,
    exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
      scripts.push(script);
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        const { hold } = options;
        let held = false;
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (!hold || held) return;
          const at = `\n${stdout}`.indexOf(`\n${hold.marker}\n`);
          if (at < 0) return;
          held = true;
          hold.reached(stdout.slice(0, at), stderr).then(
            (answer) => child.stdin.end(answer),
            () => child.stdin.end(),
          );
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ stdout, stderr, code, ...(signal ? { signal } : {}) }));
        // The script may exit without reading its stdin (EPIPE): that is not an error here.
        child.stdin.on('error', () => undefined);
        // With a hold, stdin ends with the answer (as over SSH: ExecOptions.hold).
        if (hold) child.stdin.write(options.stdin ?? '');
        else child.stdin.end(options.stdin ?? '');
      });
    },
    async close() {},
  };
};
