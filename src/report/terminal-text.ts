// Text a host sent back (stderr tails, `batm-manage info`, file contents in diffs, values read from
// its files) is shown on the operator's terminal, where escape sequences are commands: they can
// recolour or erase lines, move the cursor to overwrite what casfleet printed, set the window title
// or, on some terminals, write to the clipboard. Every control character except tab and newline,
// and the bidirectional overrides that reorder what is displayed, is shown as a visible escape
// (`\x1b`, `\u202e`) instead, so a sequence arrives as harmless text that still shows it was there.
// JSON output needs none of this: JSON.stringify escapes control characters itself.

// C0 controls but tab and newline, DEL, C1 controls, bidi embeddings, overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are what gets removed or refused
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const visible = (char: string): string => {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `text` safe to print on a terminal (see the module comment). */
export const printable = (text: string): string => text.replace(UNSAFE, visible);
