// -e key=value and -e @file, in command-line order: later ones win, as in Ansible.

import { resolve } from 'node:path';
import type { SourcePosition } from '../errors.ts';
import { loadVarsFile, parseExtraVar } from '../inventory/extra-vars.ts';
import type { ExtraVars } from '../playbook/host-vars.ts';

export const loadExtraVars = async (args: readonly string[], cwd: string): Promise<ExtraVars> => {
  const vars: Record<string, unknown> = {};
  const origins: Record<string, SourcePosition> = {};
  for (const arg of args) {
    if (arg.startsWith('@')) {
      const loaded = await loadVarsFile(resolve(cwd, arg.slice(1)));
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
