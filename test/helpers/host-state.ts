// A lab host's state as a transaction covers it, comparable before and after a change: files (with
// owner, group and mode) and both filter tables (packet counters left out).

import { quote } from '../../src/command/shell.ts';

type HostShell = (host: string, script: string) => Promise<string>;

/** Each file's owner, group, mode and content in one text; `absent` for a missing one. */
export const filesOn = (sh: HostShell, host: string, paths: readonly string[]): Promise<string> =>
  sh(
    host,
    paths
      .map(quote)
      .map((path) => `echo == ${path}; if [ -e ${path} ]; then stat -c '%u:%g:%a' ${path}; cat ${path}; else echo absent; fi`)
      .join('\n'),
  );

/** A filter table as `save` prints it, without its comment lines and packet counters. */
const filterTableOn = async (sh: HostShell, host: string, save: 'iptables-save' | 'ip6tables-save'): Promise<string[]> =>
  (await sh(host, `${save} -t filter`))
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]$/, ''));

export const transactionStateOn = async (sh: HostShell, host: string, paths: readonly string[]) => ({
  files: await filesOn(sh, host, paths),
  filter4: await filterTableOn(sh, host, 'iptables-save'),
  filter6: await filterTableOn(sh, host, 'ip6tables-save'),
});
