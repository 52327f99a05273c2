// How a file is named in messages: relative to the working directory when it is below it (short,
// and clickable in terminals and editors), absolute otherwise.

import { isAbsolute, relative } from 'node:path';

export const displayPath = (absolute: string): string => {
  const shown = relative(process.cwd(), absolute);
  return shown !== '' && !shown.startsWith('..') && !isAbsolute(shown) ? shown : absolute;
};
