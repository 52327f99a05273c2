// Cleaning host output before it leaves for a support ticket: terminal control sequences go (a
// hostile or broken host must not drive the reader's terminal), and in .properties files every value
// that looks like a secret is replaced, by its key (password, secret, token, key, credential, auth,
// seed, mnemonic, private) or by its shape (a long run of base64/hex-like characters).
import { parseProperties } from '../steps/properties-edit.ts';

export const REDACTED = '********';

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-byte escapes, C0 controls but tab and
// newline, DEL, and the C1 controls.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are what gets removed
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text without terminal control characters (tab and newline kept; CRLF becomes LF). */
export const stripControl = (text: string): string => text.replace(/\r\n/g, '\n').replace(CONTROL, '');

const SECRET_KEY = /pass|secret|token|key|credential|auth|seed|mnemonic|private|pin\b|salt/i;
const SECRET_VALUE = /^[A-Za-z0-9+/=_\-.]{24,}$/;

const looksSecret = (key: string, value: string): boolean => SECRET_KEY.test(key) || SECRET_VALUE.test(value.trim());

/** A .properties text with every secret-looking value replaced by ********; everything else kept. */
export const redactProperties = (content: string): { text: string; redacted: string[] } => {
  const { lines, entries } = parseProperties(content);
  const redacted: string[] = [];
  const out = lines.map((line) => ({ ...line }));
  for (const entry of [...entries].reverse()) {
    if (!looksSecret(entry.key, entry.value) || entry.value === '') continue;
    redacted.unshift(entry.key);
    const eol = out[entry.last]?.eol ?? '';
    out.splice(entry.first, entry.last - entry.first + 1, { text: `${entry.prefix}${REDACTED}`, eol });
  }
  // A commented-out `# password=…` is still a password.
  const text = out
    .map((line) => {
      const comment = /^(\s*[#!]\s*([^=:\s]+)\s*[=:]\s*)(\S.*)$/.exec(line.text);
      return comment && looksSecret(comment[2] ?? '', comment[3] ?? '') ? `${comment[1]}${REDACTED}${line.eol}` : `${line.text}${line.eol}`;
    })
    .join('');
  return { text, redacted };
};
