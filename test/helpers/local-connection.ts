// A Connection that runs scripts with the local /bin/sh: real shell semantics (exit codes, stdin,
// quoting) for testing the runner's protocol and pipeline without a remote host. The lab tests
// cover the same code over real SSH.
import { spawn } from 'node:child_process';
import type { Connection, ExecOptions, ExecResult } from '../../src/ssh/connection.ts';
import { findHold, type HoldScan } from '../../src/ssh/exec-hold.ts';

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
        // Where the next hold is looked for; undefined while one waits for its answer, or after EOF.
        let scan: HoldScan | undefined = hold ? { stdoutFrom: 0, stderrFrom: 0 } : undefined;
        const lookForHold = (): void => {
          if (!hold || !scan) return;
          const found = findHold(stdout, stderr, hold.marker, scan);
          if (!found) return;
          scan = undefined;
          let answered = false;
          hold.reached({
            stdout: found.stdout,
            stderr: found.stderr,
            answer: (text, again = false) => {
              if (answered || child.exitCode !== null) return false;
              answered = true;
              if (again && text !== undefined) {
                child.stdin.write(text);
                scan = found.next;
              } else child.stdin.end(text);
              return true;
            },
          });
        };
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          lookForHold();
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
          lookForHold();
        });
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
