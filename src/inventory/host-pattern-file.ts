// The one I/O piece of host patterns: reading `@file` pattern files (e.g. `--limit @retry.txt`),
// relative to a directory. Kept apart so host-pattern.ts stays pure.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import type { PatternFileReader } from './host-pattern.ts';

/** A reader for selectHosts() that resolves `@file` against `cwd` and turns I/O errors into usage errors. */
export const patternFileReader =
  (cwd: string): PatternFileReader =>
  (file) => {
    try {
      return readFileSync(resolve(cwd, file), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        `host pattern file '${file}' ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`}`,
        { cause: error },
      );
    }
  };
