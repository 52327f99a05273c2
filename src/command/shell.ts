// Every remote command is built here. Values are quoted by default; raw shell text must be asked
// for explicitly with `raw()`, and secrets are masked in everything that is shown to people.

const SAFE_WORD = /^[A-Za-z0-9_\-.,:/@%+=]+$/;

/** POSIX single-quote a word unless it is made only of characters the shell never interprets. */
export const quote = (word: string): string => (word !== '' && SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

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

/**
 * Privilege escalation as Ansible's `become`. Without a password `sudo -n`, so a host that needs one
 * fails at once instead of hanging. With one, `sudo -k -S` reads it from the first line of stdin
 * (never the command line): -k makes sudo ask even with cached credentials, so that line is always
 * consumed by sudo and never reaches the command.
 */
export interface Become {
  readonly enabled: boolean;
  readonly user?: string;
  /** The sudo password; sent as the first line of stdin by the caller (see becomeStdin). */
  readonly password?: string;
}

/** sudo's prompt, on stderr: seen twice when sudo asks again, i.e. when it rejected the password. */
export const SUDO_PROMPT = '[casfleet sudo password]';

// The first thing the command does under sudo: a marker line on stderr. Without it, sudo did not run
// the command, whatever language it said why in.
const BECOME_START = '\u001ecasfleet-become';

/** Wrap a script so it runs through `sudo … sh -c` when become is enabled. */
export const withBecome = (command: RemoteCommand, become: Become): RemoteCommand => {
  if (!become.enabled) return command;
  const user = become.user && become.user !== 'root' ? sh`-u ${become.user} ` : raw('');
  const sudo = become.password === undefined ? 'sudo -n' : `sudo -k -S -p ${quote(SUDO_PROMPT)}`;
  const script = `printf '%s\\n' '${BECOME_START}' >&2\n${command.script}`;
  return {
    script: `${sudo} ${render(user).script}-- sh -c ${quote(script)}`,
    display: `${sudo} ${render(user).display}-- sh -c ${quote(command.display)}`,
  };
};

/** stdin for a command run through withBecome: the password line first when there is one. */
export const becomeStdin = (become: Become, stdin: string | undefined): string | undefined =>
  become.enabled && become.password !== undefined ? `${become.password}\n${stdin ?? ''}` : stdin;

const PASSWORD_ADVICE = 'give it with -K/--ask-become-pass, CASFLEET_BECOME_PASSWORD or ansible_become_password';

/** sudo prompted a second time: it rejected the password it read (and would read another). */
export const sudoAskedAgain = (stderr: string): boolean => stderr.split(SUDO_PROMPT).length > 2;

/**
 * Why sudo itself refused to run the command, from its stderr, or undefined when the command ran
 * (its start marker is there: see withBecome). A rejected password is told by the prompt coming
 * twice; a missing one by sudo -n's message in English, or in any language by what sudo said.
 */
export const sudoRefusal = (become: Become, stderr: string): string | undefined => {
  if (!become.enabled || stderr.includes(`${BECOME_START}\n`)) return undefined;
  if (become.password !== undefined && sudoAskedAgain(stderr)) return 'sudo rejected the password';
  const besidePrompts = stderr.split(SUDO_PROMPT);
  if (become.password === undefined && /sudo: (?:a password is required|a terminal is required)/.test(stderr)) {
    return `sudo needs a password here: ${PASSWORD_ADVICE}`;
  }
  const words = besidePrompts.join('').trim().split('\n').filter(Boolean).slice(-2).join(' | ');
  const refused = `sudo did not run the command${words ? ` (${words})` : ''}`;
  return become.password === undefined ? `${refused}; if it needs a password here, ${PASSWORD_ADVICE}` : refused;
};

/** stderr without the become marker line (see withBecome). */
export const withoutBecomeStart = (stderr: string): string => stderr.replace(`${BECOME_START}\n`, '');
