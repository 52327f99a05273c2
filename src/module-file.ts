// The path of a module or asset beside the calling module, with the caller's own extension: the
// CLI runs both from TypeScript sources (.ts through tsx) and from the compiled dist/ (.js).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `siblingModule(import.meta.url, 'probe-main')` → …/probe-main.ts or …/probe-main.js. */
export const siblingModule = (callerUrl: string, name: string): string =>
  fileURLToPath(new URL(`./${name}${moduleExtension(callerUrl)}`, callerUrl));

/** '.ts' when running from sources, '.js' when running from dist/. */
export const moduleExtension = (callerUrl: string): string => extname(fileURLToPath(callerUrl));
