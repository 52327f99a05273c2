// A plain OpenSSH client for a lab host (the bench's floor and reference, tests that need a client
// casfleet does not control), with the same strict host-key checking casfleet uses. Run it from the
// lab's controller namespace: only there are the hosts' addresses routed.

export interface LabClientFiles {
  readonly knownHostsPath: string;
  readonly privateKeyPath: string;
}

/** argv of `ssh root@<address> <command>`; `options` are extra `-o` settings such as `ConnectTimeout=10`. */
export const labSshArgv = (files: LabClientFiles, address: string, command: string, options: readonly string[] = []): string[] => [
  'ssh',
  '-F',
  '/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  `UserKnownHostsFile=${files.knownHostsPath}`,
  ...options.flatMap((option) => ['-o', option]),
  '-i',
  files.privateKeyPath,
  `root@${address}`,
  command,
];
