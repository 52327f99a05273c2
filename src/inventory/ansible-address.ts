// Whether a text is one host identifier as Ansible's parse_address(…, allow_ranges=True) reads it: a
// hostname, IPv4 or IPv6 address (ranges like `cas-[01:20]` allowed), with an optional `:port`.
// Host-pattern splitting depends on it: a pattern without a comma that parses as an address is one
// part (`fe80::1`, `cas-01:22`), anything else is split at ':' and whitespace.

const NUMERIC_RANGE = String.raw`\[[0-9]+:[0-9]+(?::[0-9]+)?\]`;
const HEX_RANGE = String.raw`\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]`;
const ALNUM_RANGE = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;

const V6 = `(?:[0-9a-f]{1,4}|${HEX_RANGE})`;
const V4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${NUMERIC_RANGE})`;
// Python's \w under re.UNICODE: letters, digits and underscore of any script.
const WORD = String.raw`[\p{L}\p{N}_]`;
const LABEL = `(?:${WORD}|${ALNUM_RANGE})(?:${WORD}|-|${ALNUM_RANGE})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(`^(?:${V4}\\.){3}${V4}$`, 'i');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${V6}:){7}${V6}`,
      `(?:${V6}:){1,6}:`,
      `(?:${V6}:)(?::${V6}){1,6}`,
      `(?:${V6}:){2}(?::${V6}){1,5}`,
      `(?:${V6}:){3}(?::${V6}){1,4}`,
      `(?:${V6}:){4}(?::${V6}){1,3}`,
      `(?:${V6}:){5}(?::${V6}){1,2}`,
      `(?:${V6}:){6}(?::${V6})`,
      `:(?::${V6}){1,6}`,
      `${V6}?::`,
      `(?:0:){6}(?:${V6}\\.){3}${V6}`,
      `::(?:ffff:)?(?:${V6}\\.){3}${V6}`,
      `(?:0:){5}ffff:(?:${V6}\\.){3}${V6}`,
    ].join('|') +
    ')$',
  'i',
);
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'iu');

/** True when Ansible's parse_address would accept `text` (ranges allowed). */
export const isAnsibleAddress = (text: string): boolean => {
  let host = text;
  // Like Ansible, both port forms are tried in turn, the second on what the first left.
  for (const form of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const match = form.exec(host);
    if (match) host = match[1] ?? '';
  }
  return IPV4.test(host) || IPV6.test(host) || HOSTNAME.test(host);
};
