// The vars the CAS playbooks accept: one zod schema per scenario, the single source of truth for
// validation, `casfleet playbooks <name>` and the README tables. Defaults follow the GB firewall
// guide (research/cas-domain.md §1.2, §2): everything closed except SSH, the admin VPN and, in
// Scenario A, the terminal VPN.

import { z } from 'zod';
import { cidrProblem, isWideSource, MIN_SOURCE_PREFIX, parseCidr, parseNetwork } from '../steps/cidr.ts';
import { interfaceName } from '../steps/ufw-managed-rule.ts';

/**
 * A source address or network (v4 or v6); a bare address means that one host. Host bits after the
 * prefix (`10.8.0.5/24`, `1::/0`) are refused: ufw would silently clear them for IPv4 and keep them
 * for IPv6, so the rule would not be the one written.
 */
export const cidr = z
  .string({ error: 'expected an IPv4/IPv6 address or CIDR such as 203.0.113.7 or 10.8.0.0/24' })
  .superRefine((text, ctx) => {
    const problem = cidrProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// `-e hardwareVpnSubnets=10.8.0.0/24` arrives as a string; a comma list is accepted the same way.
// Two entries that ufw stores as the same network would make two identical rules, and a /0 lets
// everyone in while reading like a restriction, as do a few networks shorter than a /8 (IPv6: /16)
// that together cover (nearly) every address (`0.0.0.0/1,128.0.0.0/1`): all are refused here, before
// any host is contacted. `everyone` says how to really mean "from anywhere" for that list.
const allowFromList = (everyone: string) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z
      .array(cidr)
      .min(1, 'needs at least one address or CIDR')
      .superRefine((list, ctx) => {
        const seen = new Map<string, string>();
        list.forEach((entry, index) => {
          const network = parseNetwork(entry);
          if (network && isWideSource(network)) {
            const family = network.family === 'v4' ? 'IPv4' : 'IPv6';
            const message =
              network.prefix === 0
                ? `${entry} is every ${family} address, not a restriction: ${everyone}`
                : `${entry} is 1/${2 ** network.prefix} of every ${family} address, too wide to be a restriction (a source list takes /${MIN_SOURCE_PREFIX.v4} or narrower for IPv4, /${MIN_SOURCE_PREFIX.v6} or narrower for IPv6): list the networks meant, or ${everyone}`;
            ctx.addIssue({ code: 'custom', path: [index], message });
            return;
          }
          const key = parseCidr(entry)?.text ?? entry;
          const first = seen.get(key);
          if (first !== undefined)
            ctx.addIssue({ code: 'custom', path: [index], message: `${entry} is the same network as ${first} (${key})` });
          else seen.set(key, entry);
        });
      }),
  );

const casVarsObject = z.object({
  firewall: z
    .enum(['ufw', 'iptables'])
    .default('ufw')
    .describe("GB's Option 1 (ufw, preferred) or Option 2 (raw iptables, made persistent); switching takes over the exposure first"),
  publicInterface: interfaceName
    .optional()
    .describe('interface the public VPN rules apply on; default: the interface of the default route, else eth0'),
  sshPort: z
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('port sshd listens on; default: the port casfleet connects on (ansible_port, else 22), as each host sees it'),
  sshAllowFrom: allowFromList('leave sshAllowFrom out to allow SSH from everyone')
    .optional()
    .describe('allow SSH only from these sources (GB: "can lock you out"); default: from anywhere'),
  pairing: z
    .boolean()
    .default(false)
    .describe('Scenario A: open gate port 7741 to pair a new or factory-reset terminal; close it again afterwards'),
  adminGui: z
    .enum(['closed', 'open'])
    .default('closed')
    .describe("admin GUI 7777 from anywhere: 'open' only until the admin VPN works (GB)"),
  adminAllowFrom: allowFromList("use adminGui: 'open' to open the admin GUI to everyone (GB: only until the admin VPN works)")
    .optional()
    .describe("allow admin GUI 7777 only from these sources (static office IPs); not with adminGui: 'open'"),
  extensions: z
    .union([z.literal(false), z.strictObject({ allowFrom: allowFromList('use extensions: {} to open 7743 to everyone').optional() })], {
      error: 'expected false, {} (open to all) or { allowFrom: [addresses] }',
    })
    .default(false)
    .describe('open 7743 for extensions; { allowFrom: [...] } restricts it (Veriff); {} opens it to all (Onfido, Lightning)'),
  proxy: z.boolean().default(false).describe('open 443 for an nginx proxy'),
});

/**
 * The other vars a cross-field issue depends on, in its `params`: validation says where each of them
 * was set (group_vars, host_vars, the inventory or -e), since the issue's own position is only one
 * side of the conflict.
 */
export interface OtherVarsParams {
  readonly otherVars: readonly string[];
}

// A setting that makes another do nothing is refused rather than silently overriding it: with
// `adminGui: 'open'` 7777 is open to everyone, so an `adminAllowFrom` beside it would read like a
// restriction that is not there. (`extensions` cannot conflict: its allowFrom is inside it.)
const refuseOverrides = (vars: { adminGui: 'closed' | 'open'; adminAllowFrom?: string[] | undefined }, ctx: z.RefinementCtx): void => {
  if (vars.adminGui === 'open' && vars.adminAllowFrom !== undefined) {
    const params: OtherVarsParams = { otherVars: ['adminGui'] };
    ctx.addIssue({
      code: 'custom',
      path: ['adminAllowFrom'],
      message:
        "adminGui: 'open' opens the admin GUI 7777 to everyone, so adminAllowFrom would restrict nothing: leave adminGui closed (the default) to allow 7777 only from adminAllowFrom, or drop adminAllowFrom",
      params,
    });
  }
};

export const casVarsSchema = casVarsObject.superRefine(refuseOverrides);

export const scenarioAVarsSchema = casVarsSchema;

// In Scenario B terminals pair through the hardware VPN, so there is no public pairing window.
export const scenarioBVarsSchema = casVarsObject
  .omit({ pairing: true })
  .extend({
    hardwareVpnSubnets: allowFromList(
      'list the networks the hardware VPN router brings terminals from (7741 must not be open to everyone)',
    ).describe('networks the hardware VPN router brings terminals from; only they may reach 7741 (gate and master)'),
  })
  .superRefine(refuseOverrides);

export type CasVars = z.infer<typeof casVarsSchema>;
/** What both scenarios share (Scenario B has no public pairing window). */
export type CommonVars = Omit<CasVars, 'pairing'>;
export type ScenarioBVars = z.infer<typeof scenarioBVarsSchema>;
