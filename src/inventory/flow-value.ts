// The typing rule for values written as text on one line: INI inventory values and `-e key=value`.
// They are read like a YAML flow value in casfleet's dialect (yaml-source.ts), so `22` is a
// number, `yes`/`true` a boolean, `[a, b]` a list, `"22"` a string, and the same text means the
// same thing in every file. Ansible reads INI values as Python literals instead; the differences
// (True/None, quotes that only group words) are small and documented in load-inventory.ts.

import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { YAML_DIALECT } from './yaml-source.ts';

const NULL_WORDS = /^(?:~|null|Null|NULL)$/;

/**
 * A one-line value as typed data. Text that is not one flow value (a YAML error, a block
 * mapping like `a: b`, a lone comment) stays the string it was: the user meant text.
 */
export const parseFlowValue = (text: string): unknown => {
  const trimmed = text.trim();
  // `key=` means an empty string, as in Ansible, not null.
  if (trimmed === '') return '';
  const doc = parseDocument(trimmed, YAML_DIALECT);
  if (doc.errors.length > 0) return text;
  const node = doc.contents;
  if (node === null) return text;
  if ((isMap(node) || isSeq(node)) && !node.flow) return text;
  if (isScalar(node) && node.value === null && !NULL_WORDS.test(String(node.source ?? trimmed))) return text;
  try {
    return doc.toJS();
  } catch {
    // An alias without its anchor (`*x`): text, like any other thing that is not a value.
    return text;
  }
};
