// Exact-text fixtures for the scripts casfleet sends to hosts: compared line by line with a readable
// diff, and rewritten from the code under CASFLEET_UPDATE_FIXTURES=1 so that a change to a script is
// reviewed as a diff of its fixture.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const UPDATE_FIXTURES = process.env.CASFLEET_UPDATE_FIXTURES === '1';

/** A readable line diff of expected → actual (`-` expected only, `+` actual only), or undefined when equal. */
export const lineDiff = (expected: readonly string[], actual: readonly string[]): string | undefined => {
  if (JSON.stringify(expected) === JSON.stringify(actual)) return undefined;
  // Longest common subsequence table; fixture scripts are short enough for the quadratic table.
  const lcs = Array.from({ length: expected.length + 1 }, () => new Array<number>(actual.length + 1).fill(0));
  for (let i = expected.length - 1; i >= 0; i--) {
    for (let j = actual.length - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    if (i < expected.length && j < actual.length && expected[i] === actual[j]) {
      out.push(`  ${expected[i++]}`);
      j++;
    } else if (i < expected.length && (j === actual.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`- ${expected[i++]}`);
    else out.push(`+ ${actual[j++]}`);
  }
  return out.join('\n');
};

/** The parts of `parts` that `haystack` does not contain in this order (substrings, each after the previous). */
export const missingInOrder = (haystack: string, parts: readonly string[]): string[] => {
  const missing: string[] = [];
  let from = 0;
  for (const part of parts) {
    const at = haystack.indexOf(part, from);
    if (at === -1) missing.push(part);
    else from = at + part.length;
  }
  return missing;
};

const scriptFileSchema = z.object({ description: z.string().optional(), script: z.array(z.string()) }).strict();

/**
 * Compares `script` with the fixture at `path` (`{"script": [lines]}`, the lines joined with "\n"
 * give the script byte for byte) and returns the problem, or undefined. In update mode it writes
 * the fixture (keeping its description) instead.
 */
export const scriptFixtureProblem = (path: string, script: string, description?: string): string | undefined => {
  const actual = script.split('\n');
  if (UPDATE_FIXTURES) {
    writeFileSync(path, `${JSON.stringify({ ...(description === undefined ? {} : { description }), script: actual }, null, 2)}\n`);
    return undefined;
  }
  if (!existsSync(path)) return `${path} is missing: write it with CASFLEET_UPDATE_FIXTURES=1 and review it`;
  const diff = lineDiff(scriptFileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).script, actual);
  return diff === undefined ? undefined : `${path} (- fixture, + now):\n${diff}`;
};
