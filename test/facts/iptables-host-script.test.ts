// The iptables host fact searches the PATH itself (no `command -v` fork per tool): it must find
// what `command -v` finds, the first executable regular file, in dash as in bash.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { iptablesHost, parseIptablesHost } from '../../src/facts/iptables-host.ts';

const run = (shell: string, path: string) => {
  const result = spawnSync(shell, ['-c', iptablesHost.script], { encoding: 'utf8', env: { PATH: path } });
  return parseIptablesHost(result.stdout);
};

const tool = (dir: string, name: string, mode: number) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), '#!/bin/sh\n');
  chmodSync(join(dir, name), mode);
};

for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: the first executable regular file on the PATH, as command -v finds it`, (t) => {
    const root = mkdtempSync(join(tmpdir(), 'casfleet-iptables-host-'));
    tool(join(root, 'a'), 'iptables-save', 0o644);
    mkdirSync(join(root, 'a', 'iptables-restore'));
    tool(join(root, 'b'), 'iptables-save', 0o755);
    tool(join(root, 'b'), 'iptables-restore', 0o755);
    tool(join(root, 'c'), 'iptables-restore', 0o755);
    const found = run(shell, `${join(root, 'a')}:${join(root, 'b')}:${join(root, 'c')}`).tools;
    t.is(found['iptables-save'], join(root, 'b', 'iptables-save'));
    t.is(found['iptables-restore'], join(root, 'b', 'iptables-restore'));
    const expected = spawnSync(shell, ['-c', 'PATH="$PATH:/usr/sbin:/sbin"; command -v ip6tables-save'], {
      encoding: 'utf8',
      env: { PATH: `${join(root, 'a')}:${join(root, 'b')}` },
    }).stdout.trim();
    t.is(found['ip6tables-save'], expected === '' ? undefined : expected);
  });
}
