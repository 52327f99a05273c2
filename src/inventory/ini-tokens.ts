// Splits an INI host line into words the way Ansible's shlex (posix, comments on) does for the parts
// that matter: whitespace separates words except inside quotes, a `#` outside quotes starts a
// comment even inside a word (`note=abc#def` is `note=abc`), and outside quotes a backslash makes
// the next character literal (`path=a\ b` is `path=a b`). Unlike shlex, quotes (and [ ] { }
// brackets) are kept in the word, so the value parser can tell `port="22"` (a string) from
// `port=22` (a number), and `subnets=[a, b]` stays one word.

export interface IniToken {
  readonly text: string;
  /** 1-based column of the token's first character. */
  readonly col: number;
}

export type TokenizedLine =
  | { readonly ok: true; readonly tokens: readonly IniToken[] }
  | { readonly ok: false; readonly message: string; readonly col: number };

const OPENERS: Readonly<Record<string, string>> = { '[': ']', '{': '}' };

export const tokenizeIniLine = (line: string): TokenizedLine => {
  const tokens: IniToken[] = [];
  let index = 0;
  let comment = false;
  while (index < line.length && !comment) {
    while (index < line.length && /\s/.test(line.charAt(index))) index += 1;
    if (index >= line.length || line.charAt(index) === '#') break;
    const start = index;
    let text = '';
    let quote: { readonly char: string; readonly at: number } | undefined;
    const open: { readonly char: string; readonly at: number }[] = [];
    for (; index < line.length; index += 1) {
      const char = line.charAt(index);
      if (quote) {
        // Inside double quotes a backslash escapes the next character (YAML and shell agree).
        if (quote.char === '"' && char === '\\') {
          text += line.slice(index, index + 2);
          index += 1;
          continue;
        }
        if (char === quote.char) quote = undefined;
      } else if (char === '\\') {
        text += line.charAt(index + 1);
        index += 1;
        continue;
      } else if (char === '#') {
        comment = true;
        break;
      } else if (char === '"' || char === "'") {
        quote = { char, at: index };
      } else if (OPENERS[char] !== undefined) {
        open.push({ char, at: index });
      } else if (open.length > 0 && char === OPENERS[open.at(-1)?.char ?? '']) {
        open.pop();
      } else if (open.length === 0 && /\s/.test(char)) {
        break;
      }
      text += char;
    }
    if (quote) return { ok: false, message: `unclosed ${quote.char === '"' ? 'double' : 'single'} quote`, col: quote.at + 1 };
    const unclosed = open.at(-1);
    if (unclosed) return { ok: false, message: `unclosed '${unclosed.char}'`, col: unclosed.at + 1 };
    if (text !== '') tokens.push({ text, col: start + 1 });
  }
  return { ok: true, tokens };
};
