// Setting one key in a Java .properties file while keeping every other byte as it was. The syntax
// is java.util.Properties.load's: natural lines end with \n, \r\n or \r; blank lines and lines whose
// first non-blank character is # or ! are comments; a line ending in an odd number of backslashes
// continues on the next; the key ends at the first unescaped '=', ':' or blank, then blanks, at most
// one '=' or ':', blanks, and the value. When a key appears several times Java keeps the LAST one,
// so that is the one read and rewritten. Text is a Latin-1 "binary string" (one char per byte).
// Edge cases checked against java.util.Properties itself: test/fixtures/properties/README.md.

interface NaturalLine {
  readonly text: string;
  readonly eol: string;
}

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** Index of the first and last natural line of the entry (0-based). */
  readonly first: number;
  readonly last: number;
  /** Text of the first natural line up to where the value starts (key and separator, as written). */
  readonly prefix: string;
}

const BLANK = /[ \t\f]/;

const splitLines = (content: string): NaturalLine[] => {
  const lines: NaturalLine[] = [];
  const pattern = /([^\r\n]*)(\r\n|\r|\n)/gy;
  let end = 0;
  for (let match = pattern.exec(content); match !== null; match = pattern.exec(content)) {
    lines.push({ text: match[1] ?? '', eol: match[2] ?? '' });
    end = pattern.lastIndex;
  }
  if (end < content.length) lines.push({ text: content.slice(end), eol: '' });
  return lines;
};

const continues = (text: string): boolean => (/\\+$/.exec(text)?.[0].length ?? 0) % 2 === 1;

const unescapeProperty = (text: string): string =>
  text.replace(/\\(u[0-9a-fA-F]{4}|.)/gs, (_, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(parseInt(escaped.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[escaped] ?? escaped;
  });

/** Splits a logical line into raw key text, the offset where the value starts, and the raw value. */
const splitEntry = (logical: string): { key: string; valueAt: number } => {
  let i = 0;
  while (i < logical.length && BLANK.test(logical[i] ?? '')) i += 1;
  const keyStart = i;
  while (i < logical.length && !/[=: \t\f]/.test(logical[i] ?? '')) i += logical[i] === '\\' ? 2 : 1;
  const key = logical.slice(keyStart, Math.min(i, logical.length));
  while (i < logical.length && BLANK.test(logical[i] ?? '')) i += 1;
  if (logical[i] === '=' || logical[i] === ':') i += 1;
  while (i < logical.length && BLANK.test(logical[i] ?? '')) i += 1;
  return { key, valueAt: i };
};

/** Every key/value entry of a .properties text, in file order. */
export const parseProperties = (content: string): { lines: NaturalLine[]; entries: PropertyEntry[] } => {
  const lines = splitLines(content);
  const entries: PropertyEntry[] = [];
  for (let first = 0; first < lines.length; first += 1) {
    const head = (lines[first] as NaturalLine).text;
    const trimmed = head.replace(/^[ \t\f]+/, '');
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) continue;
    let last = first;
    let logical = head;
    while (continues(logical) && last + 1 < lines.length) {
      last += 1;
      logical = logical.slice(0, -1) + (lines[last] as NaturalLine).text.replace(/^[ \t\f]+/, '');
    }
    if (continues(logical)) logical = logical.slice(0, -1);
    const { key, valueAt } = splitEntry(logical);
    // Keep the key and separator exactly as written, unless they span lines (then write them anew).
    const headText = last > first ? head.slice(0, -1) : head;
    const prefix = valueAt <= headText.length ? headText.slice(0, valueAt) : `${escapeKey(unescapeProperty(key))}=`;
    entries.push({ key: unescapeProperty(key), value: unescapeProperty(logical.slice(valueAt)), first, last, prefix });
    first = last;
  }
  return { lines, entries };
};

// Per UTF-16 code unit, as Properties.store writes: a character outside the Basic Multilingual
// Plane becomes its surrogate pair, \ud83d\ude00, which load() joins back into one character.
const codeUnits = (text: string): string[] => text.split('');

const escapeChar = (char: string): string => {
  const code = char.charCodeAt(0);
  const named: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f' };
  if (named[char]) return named[char];
  return code < 0x20 || code > 0x7e ? `\\u${code.toString(16).padStart(4, '0')}` : char;
};

/** A value as Properties.load reads it back: backslashes, controls, non-ASCII and a leading blank escaped. */
export const escapeValue = (value: string): string => codeUnits(value).map(escapeChar).join('').replace(/^ /, '\\ ');

/** A key as Properties.load reads it back (separators, blanks and comment starters escaped too). */
export const escapeKey = (key: string): string =>
  codeUnits(key)
    .map((char) => (/[=: ]/.test(char) ? `\\${char}` : escapeChar(char)))
    .join('')
    .replace(/^([#!])/, '\\$1');

export interface PropertyEdit {
  /** The entry Java uses today (the last one with the key), if any. */
  readonly current?: PropertyEntry;
  /** How many entries have the key. */
  readonly occurrences: number;
  /** The new text, or undefined when the effective value already is `value`. */
  readonly content?: string;
  /** The line written (without terminator). */
  readonly line: string;
}

/** Sets `key` to `value` (replacing the last occurrence, or appending), keeping every other byte. */
export const setProperty = (content: string, key: string, value: string): PropertyEdit => {
  const { lines, entries } = parseProperties(content);
  const matching = entries.filter((entry) => entry.key === key);
  const current = matching[matching.length - 1];
  const base = { occurrences: matching.length, ...(current ? { current } : {}) };
  if (current && current.value === value)
    return {
      ...base,
      line: lines
        .slice(current.first, current.last + 1)
        .map((l) => l.text)
        .join('\n'),
    };
  if (current) {
    const line = `${current.prefix}${escapeValue(value)}`;
    const replaced = [
      ...lines.slice(0, current.first),
      { text: line, eol: (lines[current.last] as NaturalLine).eol },
      ...lines.slice(current.last + 1),
    ];
    return { ...base, line, content: replaced.map((l) => l.text + l.eol).join('') };
  }
  // Appending: use the file's own line terminator (CRLF files stay CRLF) and end the last line first.
  // When the last entry ends in a continuation backslash, the next line would be read as part of
  // its value (`foo=bar\` + `k=v` is foo=barbk=v): an empty line ends the continuation first, and
  // Java reads the entry exactly as before (a continuation into an empty line or the end of the
  // file adds nothing).
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  const line = `${escapeKey(key)}=${escapeValue(value)}`;
  const head = content === '' || content.endsWith('\n') || content.endsWith('\r') ? content : content + eol;
  const last = entries[entries.length - 1];
  const dangling = last !== undefined && last.last === lines.length - 1 && continues((lines[last.last] as NaturalLine).text);
  return { ...base, line, content: `${head}${dangling ? eol : ''}${line}${eol}` };
};
