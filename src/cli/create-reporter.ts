// Picks the reporter: JSON Lines when asked, the live listr2 view on a TTY, plain lines otherwise.
// listr2 is loaded only for the live view: scripted runs do not pay for it.

import { COLOR, PLAIN } from '../report/format-event.ts';
import { createJsonReporter } from '../report/json-reporter.ts';
import { createLineReporter } from '../report/line-reporter.ts';
import type { Reporter } from '../report/reporter.ts';

/** Colours only on a terminal, and never with NO_COLOR set. */
export const outputStyle = () => (process.stdout.isTTY === true && !process.env.NO_COLOR ? COLOR : PLAIN);

export const createReporter = async (options: { readonly json: boolean; readonly verbose: boolean }): Promise<Reporter> => {
  const write = (text: string) => process.stdout.write(text);
  if (options.json) return createJsonReporter(write);
  const isTty = process.stdout.isTTY === true;
  const style = outputStyle();
  if (!isTty) return createLineReporter(write, { style, verbose: options.verbose });
  const { createLiveReporter } = await import('../report/live-reporter.ts');
  return createLiveReporter(write, { style, verbose: options.verbose });
};
