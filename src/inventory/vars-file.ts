// One YAML/JSON file of variables: a group_vars/ or host_vars/ file, or `-e @vars.yaml`. The root
// must be a mapping (or empty); connection vars are checked, every other var passes through.

import type { SourceIssue } from '../errors.ts';
import { varsSchema } from './connection-vars.ts';
import type { VarDefinition } from './inventory-builder.ts';
import { mapEntries, nodePosition, nodeValue, parseYaml } from './yaml-source.ts';
import { issuesFromZod } from './zod-issues.ts';

export interface ParsedVarsFile {
  readonly vars: ReadonlyMap<string, VarDefinition>;
  readonly issues: readonly SourceIssue[];
  readonly warnings: readonly SourceIssue[];
}

const fileSchema = varsSchema('a mapping of variable names to values').nullable();

export const parseVarsFile = (text: string, file: string): ParsedVarsFile => {
  // Ansible would decrypt these with a vault password; casfleet has no vault, so say so plainly
  // instead of failing on the cipher text.
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    return {
      vars: new Map(),
      issues: [
        {
          position: { file, line: 1, col: 1 },
          path: '',
          message: 'Ansible Vault files are not supported: decrypt the file or pass secrets through the environment',
        },
      ],
      warnings: [],
    };
  }
  const { source, issues, warnings } = parseYaml(text, file);
  if (issues.length > 0) return { vars: new Map(), issues, warnings };
  const root = source.doc.contents;
  const checked = fileSchema.safeParse(nodeValue(source, root));
  const vars = new Map<string, VarDefinition>(
    mapEntries(source, root).map((entry) => [
      entry.key,
      { value: nodeValue(source, entry.valueNode), position: nodePosition(source, entry.valueNode, entry.keyNode) },
    ]),
  );
  return { vars, issues: checked.success ? [] : issuesFromZod(source, checked.error.issues), warnings };
};
