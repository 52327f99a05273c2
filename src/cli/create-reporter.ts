// Picks the reporter: JSON Lines when asked, the live listr2 view on a TTY, plain lines otherwise.
import { createJsonReporter } from '../report/json-reporter.ts';
import { createLineReporter } from '../report/line-reporter.ts';
import { createLiveReporter } from '../report/live-reporter.ts';
import { COLOR, PLAIN } from '../report/format-event.ts';
import type { Reporter } from '../report/reporter.ts';

export const createReporter = (options: { readonly json: boolean; readonly verbose: boolean }): Reporter => {
  const write = (text: string) => process.stdout.write(text);
  if (options.json) return createJsonReporter(write);
  const isTty = process.stdout.isTTY === true;
  const style = isTty && !process.env.NO_COLOR ? COLOR : PLAIN;
  return isTty ? createLiveReporter(write, { style, verbose: options.verbose }) : createLineReporter(write, { style, verbose: options.verbose });
};
