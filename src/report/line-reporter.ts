// Plain line output for logs and pipes (stdout is not a TTY): one line per step result as it
// happens, then the recap. Cheap at any fleet size.

import { formatStageEvent, formatStepEvent, formatUnreachable, type Style } from './format-event.ts';
import { formatRecap } from './recap.ts';
import type { Reporter, Write } from './reporter.ts';

export interface LineReporterOptions {
  readonly style: Style;
  /** Print `ok` results too (otherwise only changes, failures, skips, warnings). */
  readonly verbose: boolean;
}

export const createLineReporter = (write: Write, options: LineReporterOptions): Reporter => ({
  emit(event) {
    const print = (lines: string[]) => write(`${lines.join('\n')}\n`);
    switch (event.type) {
      case 'run-start':
        print([
          `PLAY [${event.playbook}] on ${event.hosts.length} host${event.hosts.length === 1 ? '' : 's'}${event.check ? ' (check mode: nothing will be changed)' : ''}`,
        ]);
        break;
      case 'step':
        if (options.verbose || event.status !== 'ok' || event.warnings?.length || event.diff)
          print(formatStepEvent(event, options.style, options.verbose));
        break;
      case 'unreachable':
        print(formatUnreachable(event, options.style));
        break;
      case 'stage':
        if (event.kind !== 'all') print([formatStageEvent(event)]);
        break;
      case 'halt':
        print([
          options.style.red(`HALTED: ${event.reason}; ${event.untouched.length} host${event.untouched.length === 1 ? '' : 's'} untouched`),
        ]);
        break;
      case 'recap':
        print(formatRecap(event.hosts, options.style, { all: options.verbose }));
        break;
      default:
        break;
    }
  },
  async suspend() {},
  resume() {},
  async finish() {},
});
