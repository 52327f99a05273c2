// The desired firewall rules a playbook declares, validated with zod before anything connects.
// Every rule casfleet writes carries a comment starting with `casfleet:`; that comment is how a later
// run tells its own rules (which it may reorder or delete) from everyone else's (never touched).
import { z } from 'zod';
import { cidrProblem } from './cidr.ts';

export const MANAGED_PREFIX = 'casfleet:';

/** The token for "the interface of the default route, else eth0" (GB's guide writes eth0 [C] FW). */
export const DEFAULT_ROUTE = 'default-route';
export const FALLBACK_INTERFACE = 'eth0';

/** The token for "the port this SSH session arrived on", resolved per host at plan time. */
export const CONNECTION_PORT = 'connection';

const port = z.number().int().min(1).max(65535);

// ufw rejects interface aliases (`eth0:1`) and its tuple reader expects \w-ish names; 15 = IFNAMSIZ-1.
export const interfaceName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name like eth0 or ens3');

// ufw's parser refuses "'" in comments; control characters would break the one-line summaries.
const comment = z
  .string()
  .min(1)
  .max(200)
  .refine((text) => !text.includes("'"), "ufw does not accept ' in comments")
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are what gets removed or refused
  .refine((text) => !/[\u0000-\u001f\u007f]/.test(text), 'must not contain control characters')
  .transform((text) => (text.startsWith(MANAGED_PREFIX) ? text : `${MANAGED_PREFIX} ${text}`))
  .refine((text) => text.slice(MANAGED_PREFIX.length).trim() !== '', 'needs a description after "casfleet:"');

export const managedRuleSchema = z
  .object({
    action: z.enum(['allow', 'deny', 'reject', 'limit']),
    /** One port, an inclusive range [from, to], or `connection`: the port of this SSH session on each host. */
    port: z.union([port, z.tuple([port, port]), z.literal(CONNECTION_PORT)]),
    /** tcp or udp; omitted = both (ufw's `any`). Required for a range (ufw: "Must specify 'tcp' or 'udp' with multiple ports"). */
    proto: z.enum(['tcp', 'udp']).optional(),
    /** Restrict to traffic arriving on this interface; `default-route` resolves per host. */
    interface: z.union([z.literal(DEFAULT_ROUTE), interfaceName]).optional(),
    /** Source address or network (IPv4 or IPv6); omitted = anywhere (both families). */
    from: z
      .string()
      .superRefine((text, ctx) => {
        const problem = cidrProblem(text);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    /** Why the rule exists; stored as `casfleet: <comment>` (the prefix is added when missing). */
    comment,
    /**
     * A closed rule a timed window may hold open for a while (`casfleet pair`): an allow with the
     * same match whose on-host timer is armed counts as this rule until the timer closes it.
     */
    allowsWindow: z.boolean().optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (Array.isArray(rule.port)) {
      if (rule.port[0] >= rule.port[1])
        ctx.addIssue({ code: 'custom', path: ['port'], message: 'range must be [low, high] with low < high' });
      if (rule.proto === undefined) ctx.addIssue({ code: 'custom', path: ['proto'], message: 'a port range requires proto tcp or udp' });
    }
  });

export type ManagedRuleInput = z.input<typeof managedRuleSchema>;
export type ManagedRule = z.output<typeof managedRuleSchema>;

/** True for a comment casfleet wrote (and therefore owns). */
export const isManagedComment = (text: string): boolean => text.startsWith(MANAGED_PREFIX);

/** The comment without the `casfleet: ` prefix, for summaries. */
export const shortComment = (text: string): string => (isManagedComment(text) ? text.slice(MANAGED_PREFIX.length).trim() : text);

/** The rule lets TCP `port` in (from some source): the plan keeps a way in for SSH. */
export const sshAllowed = (rule: ManagedRule, port: number): boolean =>
  (rule.action === 'allow' || rule.action === 'limit') &&
  rule.proto !== 'udp' &&
  (Array.isArray(rule.port) ? rule.port[0] <= port && port <= rule.port[1] : rule.port === port);
