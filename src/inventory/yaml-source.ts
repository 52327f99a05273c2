// Every YAML (and JSON, which YAML 1.2 contains) file on the inventory side is read here, so that
// all of them share one dialect and every node can be turned into `file:line:col`.
//
// The dialect is YAML 1.2's core schema plus YAML 1.1's booleans (yes/no/on/off): Ansible reads
// inventories with PyYAML (YAML 1.1) and operators write `ansible_become: yes`. The rest of
// YAML 1.1's implicit typing (sexagesimal `22:30`, `0777` octal, timestamps) is left out on
// purpose: it turns port ranges and dates into numbers nobody asked for.

import {
  Composer,
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  parseDocument,
  type ScalarTag,
  type Tags,
  visit,
  type YAMLError,
  YAMLParseError,
} from 'yaml';
import type { SourceIssue, SourcePosition } from '../errors.ts';
import { nextTurn } from '../event-loop-turn.ts';

const YAML11_BOOLEAN: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  test: /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/,
  resolve: (text: string) => /^(?:yes|on)$/i.test(text),
};

/** Options for `parseDocument` that give casfleet's YAML dialect (see the file comment). */
export const YAML_DIALECT = {
  // Ansible inventories use `<<: *defaults`; PyYAML always honours merge keys.
  merge: true,
  customTags: (tags: Tags): Tags => [...tags, YAML11_BOOLEAN],
} as const;

export interface YamlSource {
  /** The path shown in messages (as the user gave it, or derived from it). */
  readonly file: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
}

export interface ParsedYaml {
  readonly source: YamlSource;
  /** Syntax errors; when there are any, the document's content must not be trusted. */
  readonly issues: readonly SourceIssue[];
  /** Things yaml tolerates but the user should hear about, e.g. an unresolved `!vault` tag. */
  readonly warnings: readonly SourceIssue[];
}

// yaml's messages end with " at line N, column M:" and a code frame; the position is printed by
// formatSourceIssue already, so keep only the sentence.
const sentence = (message: string): string => {
  const text = message.replace(/ at line \d+, column \d+[\s\S]*$/, '').trim();
  return text.charAt(0).toLowerCase() + text.slice(1);
};

export const positionAt = (source: YamlSource, offset: number): SourcePosition => {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, col };
};

export const parseYaml = (text: string, file: string): ParsedYaml => {
  const lineCounter = new LineCounter();
  return checkedDocument(text, file, parseDocument(text, { ...YAML_DIALECT, lineCounter }), lineCounter);
};

// Text read per turn of the event loop by parseYamlYielding: yaml takes ~0.1 ms per line of an
// inventory before the JIT warms up, so ~200 lines, a few tens of ms.
const SLICE_CHARS = 8192;

/**
 * parseYaml for a file that may be large (a 1000-host inventory): the same document and issues,
 * but yaml's lexer and parser are fed the text a slice at a time (they are incremental), giving the
 * event loop a turn between slices instead of holding it for the whole file.
 */
export const parseYamlYielding = async (text: string, file: string): Promise<ParsedYaml> => {
  if (text.length <= SLICE_CHARS) return parseYaml(text, file);
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const tokens: CST.Token[] = [];
  for (let start = 0; start < text.length; ) {
    const lineEnd = text.indexOf('\n', start + SLICE_CHARS);
    const end = lineEnd < 0 ? text.length : lineEnd + 1;
    tokens.push(...parser.parse(text.slice(start, end), end < text.length));
    start = end;
    await nextTurn();
  }
  // What parseDocument does with the tokens: the first document, and an error for any other.
  const documents = new Composer({ ...YAML_DIALECT, lineCounter }).compose(tokens, true, text.length);
  let doc: Document.Parsed | undefined;
  for (const next of documents) {
    if (doc === undefined) {
      doc = next;
      continue;
    }
    doc.errors.push(
      new YAMLParseError(
        [next.range[0], next.range[1]],
        'MULTIPLE_DOCS',
        'Source contains multiple documents; please use YAML.parseAllDocuments()',
      ),
    );
    break;
  }
  const checked = checkedDocument(text, file, doc!, lineCounter);
  // Composing is a long task of its own; whatever the caller does with the document starts another.
  await nextTurn();
  return checked;
};

/** A parsed document with its syntax errors (positioned) and warnings. */
const checkedDocument = (text: string, file: string, doc: Document, lineCounter: LineCounter): ParsedYaml => {
  const source: YamlSource = { file, doc, lineCounter };
  // yaml sometimes reports an offset on the line break or indentation before the offending
  // token (a duplicate key after an empty value, a mis-indented key); point at the token itself.
  const tokenStart = (offset: number): number => {
    let at = offset;
    while (at < text.length && /\s/.test(text.charAt(at))) at += 1;
    return at < text.length ? at : offset;
  };
  const toIssue = (error: YAMLError): SourceIssue => ({
    position: positionAt(source, tokenStart(error.pos[0])),
    path: '',
    message: sentence(error.message),
  });
  const issues = doc.errors.map(toIssue);
  // yaml only notices an alias without an anchor when converting to JS, where it throws.
  visit(doc, {
    Alias: (_key, alias) => {
      if (alias.resolve(doc) === undefined) {
        issues.push({
          position: positionAt(source, alias.range?.[0] ?? 0),
          path: '',
          message: `unknown alias *${alias.source} (an anchor &${alias.source} must come before it)`,
        });
      }
    },
  });
  return { source, issues, warnings: doc.warnings.map(toIssue) };
};

/** Follows aliases so callers see the anchored node itself. */
export const resolveAlias = (source: YamlSource, node: unknown): unknown => (isAlias(node) ? node.resolve(source.doc) : node);

export interface MapEntry {
  readonly key: string;
  readonly keyNode: Node | null;
  /** null for `key:` with nothing after it in some yaml versions; treat like a null scalar. */
  readonly valueNode: Node | null;
}

const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';

// Keys are names here (groups, hosts, vars); a number or a complex key is used as its text.
const keyText = (keyNode: unknown): string => (isScalar(keyNode) ? String(keyNode.value) : String(keyNode));

/**
 * The entries of a mapping node, with `<<` merge keys expanded the way YAML defines them: keys
 * written in the mapping win over merged ones, and earlier merge sources win over later ones.
 * Merged entries keep their own nodes, so positions point at the anchor where they were written.
 */
export const mapEntries = (source: YamlSource, node: unknown): MapEntry[] => {
  const map = resolveAlias(source, node);
  if (!isMap(map)) return [];
  const entries = new Map<string, MapEntry>();
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) {
      const target = resolveAlias(source, pair.value);
      const sources = isSeq(target) ? target.items : [target];
      for (const merged of sources) {
        for (const entry of mapEntries(source, merged)) {
          if (!entries.has(entry.key)) entries.set(entry.key, entry);
        }
      }
      continue;
    }
    const key = keyText(pair.key);
    entries.set(key, { key, keyNode: pair.key as Node | null, valueNode: pair.value as Node | null });
  }
  return [...entries.values()];
};

const hasText = (node: Node | null | undefined): node is Node & { range: [number, number, number] } =>
  node?.range !== undefined && node.range !== null && node.range[1] > node.range[0];

/**
 * Where a value starts. An empty value (`cas-01:`) has no text of its own, so its key stands in;
 * failing both, the start of the file.
 */
export const nodePosition = (source: YamlSource, node: Node | null | undefined, keyNode?: Node | null): SourcePosition => {
  if (hasText(node)) return positionAt(source, node.range[0]);
  if (hasText(keyNode)) return positionAt(source, keyNode.range[0]);
  return { file: source.file, line: 1, col: 1 };
};

/** The JS value of a node in this document (aliases and merge keys resolved). */
export const nodeValue = (source: YamlSource, node: Node | null): unknown =>
  node === null ? null : node.toJS(source.doc as Document<Node, true>);

export interface Located {
  readonly node: Node | null;
  readonly keyNode: Node | null;
}

/**
 * The node at a path of keys/indexes, for turning validation issues into positions. Stops at the
 * deepest node that exists, so a message always has somewhere sensible to point.
 */
export const locate = (source: YamlSource, path: readonly PropertyKey[]): Located => {
  let node = (source.doc.contents ?? null) as Node | null;
  let keyNode: Node | null = null;
  for (const segment of path) {
    const current = resolveAlias(source, node);
    if (isMap(current)) {
      const entry = mapEntries(source, current).find((candidate) => candidate.key === String(segment));
      if (!entry) break;
      node = entry.valueNode;
      keyNode = entry.keyNode;
    } else if (isSeq(current)) {
      const item = current.items[Number(segment)];
      if (item === undefined) break;
      node = item as Node | null;
      keyNode = null;
    } else {
      break;
    }
  }
  return { node, keyNode };
};
