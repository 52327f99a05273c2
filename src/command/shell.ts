// Every remote command is built here. Values are quoted by default; raw shell text must be asked
// for explicitly with `raw()`, and secrets are masked in everything that is shown to people.

const SAFE_WORD = /^[A-Za-z0-9_\-.,:/@%+=]+$/;

/** POSIX single-quote a word unless it is made only of characters the shell never interprets. */
export const quote = (word: string): string =>
  word !== '' && SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;

const RAW = Symbol('raw');
const SECRET = Symbol('secret');

export interface RawText {
  readonly [RAW]: string;
}
export interface SecretText {
  readonly [SECRET]: string;
}

/** Shell text inserted unquoted: operators, redirections, globs the caller wrote on purpose. */
export const raw = (text: string): RawText => ({ [RAW]: text });

/** A value that is quoted into the command but shown as `********`. */
export const secret = (text: string): SecretText => ({ [SECRET]: text });

/** A command ready to send: `script` runs on the host, `display` is safe to log. */
export interface RemoteCommand {
  readonly script: string;
  readonly display: string;
}

export type ShellValue = string | number | RawText | SecretText | RemoteCommand | readonly (string | number)[];

const isRemoteCommand = (value: unknown): value is RemoteCommand =>
  typeof value === 'object' && value !== null && 'script' in value && 'display' in value;

const render = (value: ShellValue): { script: string; display: string } => {
  if (typeof value === 'string' || typeof value === 'number') {
    const quoted = quote(String(value));
    return { script: quoted, display: quoted };
  }
  if (Array.isArray(value)) {
    const quoted = value.map((item) => quote(String(item))).join(' ');
    return { script: quoted, display: quoted };
  }
  if (isRemoteCommand(value)) return { script: value.script, display: value.display };
  if (RAW in (value as object)) {
    const text = (value as RawText)[RAW];
    return { script: text, display: text };
  }
  return { script: quote((value as SecretText)[SECRET]), display: '********' };
};

/** Tagged template: sh`ufw allow ${port}` quotes `port`; nested RemoteCommands are inlined as-is. */
export const sh = (strings: TemplateStringsArray, ...values: ShellValue[]): RemoteCommand => {
  let script = strings[0] ?? '';
  let display = strings[0] ?? '';
  values.forEach((value, index) => {
    const rendered = render(value);
    script += rendered.script + (strings[index + 1] ?? '');
    display += rendered.display + (strings[index + 1] ?? '');
  });
  return { script, display };
};

/** Join commands into one script, one per line. */
export const joinCommands = (commands: readonly RemoteCommand[], separator = '\n'): RemoteCommand => ({
  script: commands.map((command) => command.script).join(separator),
  display: commands.map((command) => command.display).join(separator),
});

/** Privilege escalation as Ansible's `become`: `sudo -n` so a missing NOPASSWD rule fails fast. */
export interface Become {
  readonly enabled: boolean;
  readonly user?: string;
}

/** Wrap a script so it runs through `sudo -n … sh -c` when become is enabled. */
export const withBecome = (command: RemoteCommand, become: Become): RemoteCommand => {
  if (!become.enabled) return command;
  const user = become.user && become.user !== 'root' ? sh`-u ${become.user} ` : raw('');
  return {
    script: `sudo -n ${render(user).script}-- sh -c ${quote(command.script)}`,
    display: `sudo -n ${render(user).display}-- sh -c ${quote(command.display)}`,
  };
};
