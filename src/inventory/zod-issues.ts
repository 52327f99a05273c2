// Turns zod validation issues on a YAML document into SourceIssues that point at the offending
// node, so every message reads `file:line:col: dotted.path: message`.

import type { z } from 'zod';
import type { SourceIssue } from '../errors.ts';
import { locate, nodePosition, type YamlSource } from './yaml-source.ts';

export const dottedPath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

export const issuesFromZod = (source: YamlSource, issues: readonly z.core.$ZodIssue[]): SourceIssue[] =>
  issues.flatMap((issue): SourceIssue[] => {
    // One issue lists every unknown key of a mapping; report each at its own key instead.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        const { keyNode } = locate(source, path);
        return { position: nodePosition(source, keyNode), path: dottedPath(path), message: issue.message };
      });
    }
    const { node, keyNode } = locate(source, issue.path);
    return [{ position: nodePosition(source, node, keyNode), path: dottedPath(issue.path), message: issue.message }];
  });
