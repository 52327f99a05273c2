// `~regex` host patterns are Python regular expressions in Ansible. Most of the syntax is the same
// in JavaScript; what differs and is common in host patterns is translated here: global inline
// flags at the start (`(?i)`, `(?s)`, `(?m)`, `(?x)`, also combined), named groups `(?P<n>…)` and
// back-references `(?P=n)`, and the anchors `\A` and `\Z`. Anything else is compiled as written.

export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

// Python flags with a JavaScript meaning; `a`, `u` and `L` only choose ASCII/Unicode/locale
// classes and are accepted without effect (host names are ASCII).
const FLAG_LETTERS = /^\(\?([aiLmsux]+)\)/;

/** Verbose mode: unescaped whitespace and `#` comments outside character classes are not part of the pattern. */
const stripVerbose = (source: string): string => {
  let out = '';
  let inClass = false;
  for (let index = 0; index < source.length; index += 1) {
    const char = source.charAt(index);
    if (char === '\\') {
      out += source.slice(index, index + 2);
      index += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
      out += char;
    } else if (char === '[') {
      inClass = true;
      out += char;
    } else if (char === '#') {
      const newline = source.indexOf('\n', index);
      index = newline < 0 ? source.length : newline;
    } else if (!/\s/.test(char)) {
      out += char;
    }
  }
  return out;
};

export const translatePythonRegex = (python: string): TranslatedRegex => {
  let rest = python;
  const flags = new Set<string>();
  for (let match = FLAG_LETTERS.exec(rest); match; match = FLAG_LETTERS.exec(rest)) {
    for (const letter of match[1] ?? '') flags.add(letter);
    rest = rest.slice(match[0].length);
  }
  if (flags.has('x')) rest = stripVerbose(rest);
  const source = rest
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2^')
    .replace(/(^|[^\\])((?:\\\\)*)\\Z/g, '$1$2$');
  return { source, flags: [...flags].filter((letter) => 'ims'.includes(letter)).join('') };
};
