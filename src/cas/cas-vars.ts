// The vars the CAS playbooks accept: one zod schema per scenario, the single source of truth for
// validation, `casfleet playbooks <name>` and the README tables. Defaults follow the GB firewall
// guide (research/cas-domain.md §1.2, §2): everything closed except SSH, the admin VPN and, in
// Scenario A, the terminal VPN.

import { z } from 'zod';
import { parseCidr } from '../steps/cidr.ts';
import { interfaceName } from '../steps/ufw-managed-rule.ts';

/** A source address or network (v4 or v6); a bare address means that one host. */
export const cidr = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'expected an IPv4/IPv6 address or CIDR such as 203.0.113.7 or 10.8.0.0/24',
});

// `-e hardwareVpnSubnets=10.8.0.0/24` arrives as a string; a comma list is accepted the same way.
// Two entries that ufw stores as the same network (10.8.0.1/24 and 10.8.0.0/24) would make two
// identical rules: refuse them here, before any host is contacted.
const cidrList = z.preprocess(
  (value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter(Boolean) : value),
  z
    .array(cidr)
    .min(1, 'needs at least one address or CIDR')
    .superRefine((list, ctx) => {
      const seen = new Map<string, string>();
      list.forEach((entry, index) => {
        const key = parseCidr(entry)?.text ?? entry;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index], message: `${entry} is the same network as ${first} (${key})` });
        else seen.set(key, entry);
      });
    }),
);

export const casVarsSchema = z.object({
  firewall: z
    .enum(['ufw', 'iptables'])
    .default('ufw')
    .describe("GB's Option 1 (ufw, preferred) or Option 2 (raw iptables, made persistent); switching takes over the exposure first"),
  publicInterface: interfaceName
    .optional()
    .describe('interface the public VPN rules apply on; default: the interface of the default route, else eth0'),
  sshPort: z.int().min(1).max(65535).default(22).describe('port sshd listens on'),
  sshAllowFrom: cidrList
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
  adminAllowFrom: cidrList.optional().describe('allow admin GUI 7777 only from these sources (static office IPs)'),
  extensions: z
    .union([z.literal(false), z.strictObject({ allowFrom: cidrList.optional() })], {
      error: 'expected false, {} (open to all) or { allowFrom: [addresses] }',
    })
    .default(false)
    .describe('open 7743 for extensions; { allowFrom: [...] } restricts it (Veriff); {} opens it to all (Onfido, Lightning)'),
  proxy: z.boolean().default(false).describe('open 443 for an nginx proxy'),
});

export const scenarioAVarsSchema = casVarsSchema;

// In Scenario B terminals pair through the hardware VPN, so there is no public pairing window.
export const scenarioBVarsSchema = casVarsSchema.omit({ pairing: true }).extend({
  hardwareVpnSubnets: cidrList.describe(
    'networks the hardware VPN router brings terminals from; only they may reach 7741 (gate and master)',
  ),
});

export type CasVars = z.infer<typeof casVarsSchema>;
/** What both scenarios share (Scenario B has no public pairing window). */
export type CommonVars = Omit<CasVars, 'pairing'>;
export type ScenarioBVars = z.infer<typeof scenarioBVarsSchema>;
