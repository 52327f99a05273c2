// The audit report as data: this zod schema is the single source of truth for `casfleet audit
// --json`, for what the text, Markdown and HTML reporters read, and for the types the analysis
// builds. The README's JSON section describes the same shape.
import { z } from 'zod';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export const SCENARIOS = ['A', 'B', 'mixed', 'unknown'] as const;
export const scenarioSchema = z.enum(SCENARIOS);
export type Scenario = z.infer<typeof scenarioSchema>;

export const portStateSchema = z.enum(['open', 'closed', 'filtered']);
export type PortState = z.infer<typeof portStateSchema>;

export const findingSchema = z
  .object({
    severity: severitySchema,
    /** Stable identifier for scripts and grouping, e.g. `admin-gui-exposed`. */
    code: z.string().regex(/^[a-z0-9-]+$/),
    /** One line for people; never names the host, so identical hosts group together. */
    message: z.string(),
  })
  .strict();
export type Finding = z.infer<typeof findingSchema>;

/** One observation behind the detected scenario, and which scenario it points to (null: neither). */
export const evidenceSchema = z.object({ says: z.enum(['A', 'B']).nullable(), text: z.string() }).strict();
export type Evidence = z.infer<typeof evidenceSchema>;

/** What the live kernel tables say beyond ufw's files (null when ufw's state was not read). */
export const kernelSchema = z
  .object({
    /** ufw's chains exist in the kernel (its rules are loaded); null when ufw is off or the tables were not read. */
    loaded: z.boolean().nullable(),
    /** ufw's running chains equal its rule files; null when ufw is off or the tables were not read. */
    inSync: z.boolean().nullable(),
    /** Policy of the INPUT chain (ACCEPT, DROP), IPv4. */
    inputPolicy: z.string().nullable(),
    /** How the running ufw chains and INPUT policy differ from the rules ufw lists. */
    drift: z.array(z.string()),
    /** ufw's rule files whose `-A` lines are not the rules ufw lists (hand-edited): what a reload or reboot runs instead. */
    ruleFiles: z.array(z.string()),
    /** Tables that could not be read (iptables-save needs root), with the reason. */
    unreadable: z.array(z.string()),
    /** Rules outside the backend's chains that accept CAS ports, quoted as iptables-save prints them. */
    foreignRules: z.array(z.object({ rule: z.string(), ports: z.array(z.string()) }).strict()),
    /** CAS ports forwarded past the INPUT rules (DNAT + FORWARD accept, as Docker publishes ports). */
    forwarded: z.array(z.object({ port: z.string(), rule: z.string() }).strict()),
  })
  .strict();
export type KernelView = z.infer<typeof kernelSchema>;

export const firewallSchema = z
  .object({
    backend: z.enum(['ufw', 'iptables', 'none']),
    enabled: z.boolean(),
    /** ufw's DEFAULT_INPUT_POLICY, or the INPUT policy for iptables; null without a firewall. */
    defaultIncoming: z.enum(['allow', 'deny', 'reject']).nullable(),
    /** Rules reloaded at boot: only meaningful for iptables (ufw persists itself); null otherwise. */
    persistence: z.boolean().nullable(),
    kernel: kernelSchema.nullable(),
  })
  .strict();
export type FirewallView = z.infer<typeof firewallSchema>;

/** Per CAS port, what the firewall rules say: allowed for anyone, and the sources allowed specifically. */
export const ruleVerdictSchema = z.object({ anyone: z.enum(['allow', 'block']), from: z.array(z.string()) }).strict();
export type RuleVerdict = z.infer<typeof ruleVerdictSchema>;

export const serviceStateSchema = z.enum(['running', 'stopped', 'unknown']);
export const servicesSchema = z.object({ gate: serviceStateSchema, master: serviceStateSchema, admin: serviceStateSchema }).strict();
export type Services = z.infer<typeof servicesSchema>;

export const driftSchema = z
  .object({
    /** The playbook the host was compared with (its detected scenario's), null when none applies. */
    against: z.enum(['scenario-a', 'scenario-b']).nullable(),
    /** What `apply <against> --check` would change, per step. */
    changes: z.array(z.object({ step: z.string(), summaries: z.array(z.string()) }).strict()),
    /** The planners' warnings (hand-added rules that fight the policy, duplicated keys, …). */
    warnings: z.array(z.string()),
    /** Why no drift could be computed (vars invalid for the scenario, a step that cannot plan). */
    error: z.string().optional(),
  })
  .strict();
export type Drift = z.infer<typeof driftSchema>;

export const hostAuditSchema = z
  .object({
    /** The address casfleet connected to and probed. */
    address: z.string(),
    status: z.enum(['audited', 'unreachable', 'failed']),
    error: z.string().optional(),
    scenario: scenarioSchema,
    evidence: z.array(evidenceSchema),
    firewall: firewallSchema.nullable(),
    /** Probe results from the machine running casfleet: `"7741"` public address, `"7741@vpn"` VPN-side address. */
    exposure: z.record(z.string(), portStateSchema),
    /** What the rules say per port, for sources casfleet cannot probe from. */
    rules: z.record(z.string(), ruleVerdictSchema),
    /** CAS's VPN-side (master) address (/batm/config/network, else the interfaces) and the local address it was probed from. */
    vpnSide: z.object({ address: z.string().nullable(), probedFrom: z.string().nullable() }).strict(),
    services: servicesSchema,
    drift: driftSchema,
    findings: z.array(findingSchema),
  })
  .strict();
export type HostAudit = z.infer<typeof hostAuditSchema>;

export const summarySchema = z
  .object({
    hosts: z.number().int(),
    audited: z.number().int(),
    unreachable: z.array(z.string()),
    failed: z.array(z.string()),
    scenarios: z
      .object({ A: z.array(z.string()), B: z.array(z.string()), mixed: z.array(z.string()), unknown: z.array(z.string()) })
      .strict(),
    /** Hosts whose worst finding has this severity. */
    worst: z.object({ critical: z.number().int(), warning: z.number().int(), info: z.number().int() }).strict(),
    /** Every finding code with its severity and hosts, the worst first, then the most hosts. */
    findings: z.array(z.object({ severity: severitySchema, code: z.string(), hosts: z.array(z.string()), message: z.string() }).strict()),
    /** 0 no critical finding · 4 a critical finding · 2 none critical but a host unreachable or failed. */
    exitCode: z.union([z.literal(0), z.literal(2), z.literal(4)]),
  })
  .strict();
export type AuditSummary = z.infer<typeof summarySchema>;

export const auditReportSchema = z
  .object({
    /** When the audit started (ISO 8601, UTC). */
    auditedAt: z.iso.datetime(),
    durationMs: z.number().int().nonnegative(),
    /** Hosts in inventory order. */
    hosts: z.record(z.string(), hostAuditSchema),
    summary: summarySchema,
  })
  .strict();
export type AuditReport = z.infer<typeof auditReportSchema>;
