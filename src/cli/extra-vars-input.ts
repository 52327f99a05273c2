// -e key=value and -e @file, in command-line order: later ones win, as in Ansible. A vars file
// decides what reaches the hosts, so it must pass the trust rule like a config file.

import { resolve } from 'node:path';
import type { SourcePosition } from '../errors.ts';
import { loadVarsFile, parseExtraVar } from '../inventory/extra-vars.ts';
import type { ExtraVars } from '../playbook/host-vars.ts';
import { assertTrustedPath } from '../trust/trusted-path.ts';

export const loadExtraVars = async (args: readonly string[], cwd: string): Promise<ExtraVars> => {
  const vars: Record<string, unknown> = {};
  const origins: Record<string, SourcePosition> = {};
  for (const arg of args) {
    if (arg.startsWith('@')) {
      const file = resolve(cwd, arg.slice(1));
      assertTrustedPath(file, 'file', 'vars file');
      const loaded = await loadVarsFile(file);
      for (const [key, value] of Object.entries(loaded.vars)) {
        vars[key] = value;
        const origin = loaded.origins[key];
        if (origin) origins[key] = origin;
        else delete origins[key];
      }
    } else {
      const { key, value } = parseExtraVar(arg);
      vars[key] = value;
      delete origins[key];
    }
  }
  return { vars, origins };
};
