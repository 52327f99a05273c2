// The ansible_* variables that say how to reach a host. They are the only inventory vars checked
// here: everything else is a playbook var and is validated against the playbook later. Values are
// kept as written in `vars` (Ansible does the same); hostConnection() normalises them.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { InventoryError, type SourceIssue } from '../errors.ts';
import { mustBe } from './describe-value.ts';
import type { HostConnection, InventoryHost } from './types.ts';

const PORT = mustBe('an integer from 1 to 65535');
// Ansible casts `ansible_port: "2222"`, so a numeric string is accepted and turned into a number.
const portSchema = z
  .union(
    [
      z.int(PORT),
      z
        .string(PORT)
        .regex(/^\s*\d+\s*$/, PORT)
        .transform(Number),
    ],
    PORT,
  )
  .pipe(z.int(PORT).min(1, PORT).max(65535, PORT));

const HOST = mustBe('a hostname or an IP address');
// Built once: building a zod schema costs far more than using it, and this runs per host.
const IPV4 = z.ipv4();
const IPV6 = z.ipv6();
const HOSTNAME = z.hostname();
const isHostOrIp = (text: string): boolean => {
  // z.hostname() alone accepts 10.0.0.300 (digits are valid labels), so anything that looks like
  // an address must be a valid address.
  if (/^[\d.]+$/.test(text)) return IPV4.safeParse(text).success;
  if (text.includes(':')) return IPV6.safeParse(text).success;
  return HOSTNAME.safeParse(text).success;
};
const hostSchema = z.string(HOST).refine(isHostOrIp, HOST);

const USER = mustBe('a user name');
const userSchema = z.string(USER).min(1, USER);

const KEY_FILE = mustBe('the path of a private key file');
const keyFileSchema = z.string(KEY_FILE).min(1, KEY_FILE);

// Ansible's boolean(): these words in any case, and the numbers 1 and 0.
const TRUE_WORDS = new Set(['yes', 'y', 'on', 'true', 't', '1']);
const FALSE_WORDS = new Set(['no', 'n', 'off', 'false', 'f', '0']);
const asBoolean = (value: unknown): boolean | undefined => {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
};
const BOOLEAN = mustBe('a boolean (true/false or yes/no)');
const booleanSchema = z
  .unknown()
  .refine((value) => asBoolean(value) !== undefined, BOOLEAN)
  .transform((value) => asBoolean(value) === true);

const ARGS = mustBe('ssh options as text (e.g. -J bastion)');
const argsSchema = z.string(ARGS);

const SECRET = mustBe('a text (the password)');
const secretSchema = z.string(SECRET);

const PRIORITY = mustBe('an integer');
const prioritySchema = z.union(
  [
    z.int(PRIORITY),
    z
      .string(PRIORITY)
      .regex(/^\s*-?\d+\s*$/, PRIORITY)
      .transform(Number),
  ],
  PRIORITY,
);

/**
 * Each connection var with its schema. The `ansible_ssh_*` spellings are older aliases that
 * Ansible's ssh connection plugin still reads; when both are set, the alias wins (the plugin
 * takes the last name in its list that is defined).
 */
export const CONNECTION_VAR_SCHEMAS = {
  ansible_host: hostSchema,
  ansible_ssh_host: hostSchema,
  ansible_port: portSchema,
  ansible_ssh_port: portSchema,
  ansible_user: userSchema,
  ansible_ssh_user: userSchema,
  ansible_private_key_file: keyFileSchema,
  ansible_ssh_private_key_file: keyFileSchema,
  ansible_become: booleanSchema,
  ansible_become_user: userSchema,
  ansible_become_password: secretSchema,
  ansible_become_pass: secretSchema,
  ansible_ssh_common_args: argsSchema,
  ansible_ssh_extra_args: argsSchema,
} as const;

/** Vars whose values are secrets: shown as ******** wherever vars are printed. */
export const SECRET_VARS: ReadonlySet<string> = new Set([
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_password',
  'ansible_ssh_pass',
]);

/** Only meaningful on groups in the inventory file (Ansible ignores it in group_vars/). */
export const GROUP_PRIORITY_VAR = 'ansible_group_priority';

const optionalShape = <T extends Record<string, z.ZodType>>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([name, schema]) => [name, schema.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]>;
  };

/** A vars mapping whose connection vars are checked and whose other vars pass through. */
export const varsSchema = (message: string) => z.looseObject(optionalShape(CONNECTION_VAR_SCHEMAS), { error: mustBe(message).error });

/** Group vars in an inventory file may also set ansible_group_priority. */
export const groupVarsSchema = (message: string) =>
  z.looseObject(optionalShape({ ...CONNECTION_VAR_SCHEMAS, [GROUP_PRIORITY_VAR]: prioritySchema }), {
    error: mustBe(message).error,
  });

export type VarScope = 'host' | 'group';

/** The problem with one var's value, or undefined when it is fine (or not a connection var). */
export const checkVar = (name: string, value: unknown, scope: VarScope): string | undefined => {
  const schema =
    scope === 'group' && name === GROUP_PRIORITY_VAR ? prioritySchema : (CONNECTION_VAR_SCHEMAS as Record<string, z.ZodType>)[name];
  const result = schema?.safeParse(value);
  return result && !result.success ? result.error.issues[0]?.message : undefined;
};

/** ansible_group_priority as a number, for a value that checkVar accepted. */
export const groupPriority = (value: unknown): number | undefined => {
  const result = prioritySchema.safeParse(value);
  return result.success ? result.data : undefined;
};

const connectionSchema = z.looseObject(optionalShape(CONNECTION_VAR_SCHEMAS));

const expandHome = (path: string, homeDir: string): string => {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return join(homeDir, path.slice(2));
  // `~user/…` would need a passwd lookup; it is rare enough to leave to the user.
  return path;
};

/** How to reach a host, as the inventory says. Defaults: address = the inventory name, no become; no port means ssh_config's or 22. */
export const hostConnection = (host: InventoryHost, homeDir: string = homedir()): HostConnection => {
  const result = connectionSchema.safeParse(host.vars);
  if (!result.success) {
    // Inventories from loadInventory never get here (every definition was checked); hand-built ones can.
    const issues: SourceIssue[] = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      const position = host.varOrigins[name];
      return { ...(position ? { position } : {}), path: name, message: issue.message };
    });
    throw new InventoryError(`host ${host.name} has invalid connection variables`, issues, { host: host.name });
  }
  const vars = result.data;
  const last = <T>(...values: (T | undefined)[]): T | undefined => values.filter((value) => value !== undefined).at(-1);
  const user = last(vars.ansible_user, vars.ansible_ssh_user);
  const keyFile = last(vars.ansible_private_key_file, vars.ansible_ssh_private_key_file);
  const port = last(vars.ansible_port, vars.ansible_ssh_port);
  const becomePassword = last(vars.ansible_become_pass, vars.ansible_become_password);
  // Ansible puts both on ssh's command line, common args first.
  const sshArgs = [vars.ansible_ssh_common_args, vars.ansible_ssh_extra_args].filter((args) => args !== undefined && args.trim() !== '');
  return {
    address: last(vars.ansible_host, vars.ansible_ssh_host) ?? host.name,
    ...(port !== undefined ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(keyFile !== undefined ? { privateKeyFile: expandHome(keyFile, homeDir) } : {}),
    become: vars.ansible_become ?? false,
    ...(vars.ansible_become_user !== undefined ? { becomeUser: vars.ansible_become_user } : {}),
    ...(becomePassword !== undefined ? { becomePassword } : {}),
    ...(sshArgs.length > 0 ? { sshArgs: sshArgs.join(' ') } : {}),
  };
};
