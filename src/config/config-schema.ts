// Tool configuration (casfleet.config.{ts,mjs,json,yaml} or .casfleetrc*): defaults that CLI flags
// override. The zod schema is the single source of truth for the accepted keys.

import { z } from 'zod';

export const configSchema = z.strictObject({
  /** Hosts worked on in parallel (-f/--forks). */
  forks: z.int().min(1).max(2000).optional(),
  /** Login user when the inventory sets no ansible_user (-u). */
  user: z.string().min(1).optional(),
  /** Private key file when the inventory sets no ansible_ssh_private_key_file (--private-key). */
  privateKey: z.string().min(1).optional(),
  /** known_hosts file (--known-hosts); default ~/.ssh/known_hosts. */
  knownHosts: z.string().min(1).optional(),
  /** Seconds to establish a connection (TCP, key exchange, authentication). */
  connectTimeout: z.number().positive().max(600).optional(),
  /** Seconds any one remote command may take. */
  commandTimeout: z.number().positive().max(3600).optional(),
  /** SSH handshakes in flight at once; ssh2's crypto runs on the main thread, so this stays modest. */
  maxHandshakes: z.int().min(1).max(512).optional(),
  /** Seconds a changed host has to confirm its change over a new connection before it rolls back by itself (--rollback-timeout). */
  rollbackTimeout: z.number().min(5).max(3600).optional(),
});

export type CasfleetConfig = z.infer<typeof configSchema>;

export const CONFIG_DEFAULTS = {
  forks: 50,
  connectTimeout: 15,
  commandTimeout: 120,
  maxHandshakes: 32,
  rollbackTimeout: 120,
} as const;
