// Map a path inside a YAML/JSON document (as zod reports it) to file:line:col, so validation
// errors point at the offending text. Parsing is pure; the caller supplies the file's text.

import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import type { SourcePosition } from '../errors.ts';

/**
 * Position of the node at `path` (the key itself when `atKey`, e.g. for an unknown key), or of the
 * deepest existing ancestor when the path does not exist (a missing required key).
 */
export const locateYamlPath = (
  file: string,
  text: string,
  path: readonly PropertyKey[],
  atKey = false,
): SourcePosition | undefined => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: false });
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const [index, segment] of path.entries()) {
    const isLast = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const key = pair.key as Node;
      offset = atKey && isLast ? key.range?.[0] : ((pair.value as Node | null)?.range?.[0] ?? key.range?.[0]);
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items)) {
      const item = (node as { items: Node[] }).items[Number(segment)];
      if (!item) break;
      offset = item.range?.[0];
      node = item;
    } else break;
  }
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { file, line, col };
};
