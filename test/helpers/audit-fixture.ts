// Audit fixtures: the framed gather output captured from real lab hosts (test/fixtures/audit/<case>/
// gather.txt, with the probes the audit saw from the controller in probes.json), replayed through
// the same analysis `casfleet audit` runs after its one exec.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostAudit, PortState } from '../../src/audit/audit-schema.ts';
import { buildAuditTargets } from '../../src/cli/audit-targets.ts';
import type { PreparedFleet } from '../../src/cli/prepare-run.ts';
import { parseGatherOutput } from '../../src/facts/gather-script.ts';
import type { InventoryHost } from '../../src/inventory/types.ts';
import { NO_EXTRA_VARS } from '../../src/playbook/host-vars.ts';
import { type AuditTarget, analyseHost, auditFactsFor } from '../../src/run/audit-fleet.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'audit');

/** The lab inventory's vars (hardwareVpnSubnets for Scenario B, the VPN-side probe source). */
export const LAB_VARS = { hardwareVpnSubnets: ['10.8.0.0/24'], casfleet_vpn_probe_from: '10.98.1.1' };

/** A prepared fleet of `size` hosts (cas-001…) with `vars`, as `audit` hands it to buildAuditTargets. */
export const auditFleet = (size: number, vars: Record<string, unknown> = LAB_VARS): PreparedFleet =>
  ({
    extra: NO_EXTRA_VARS,
    access: Array.from({ length: size }, (_, index) => {
      const name = `cas-${String(index + 1).padStart(3, '0')}`;
      return {
        host: { name, vars, varOrigins: {}, groups: ['all'] } as unknown as InventoryHost,
        connect: { name, host: '10.99.1.1', port: 22, username: 'root', knownHostsPaths: [] },
        become: { enabled: false },
      };
    }),
  }) as unknown as PreparedFleet;

export const fixtureTarget = async (vars: Record<string, unknown> = LAB_VARS): Promise<AuditTarget> => {
  const [target] = await buildAuditTargets(auditFleet(1, vars), process.cwd());
  return target!;
};

export const fixtureGather = (name: string): string => readFileSync(join(ROOT, name, 'gather.txt'), 'utf8');
export const fixtureProbes = (name: string): Record<string, PortState> => JSON.parse(readFileSync(join(ROOT, name, 'probes.json'), 'utf8'));

export interface FixtureOptions {
  readonly vars?: Record<string, unknown>;
  /** Probe results replacing (or, with undefined, removing) the captured ones. */
  readonly probes?: Readonly<Record<string, PortState | undefined>>;
  /** Edits the captured gather output (e.g. a gate.properties variant). */
  readonly gather?: (text: string) => string;
}

/** The audit of a captured lab host, as `casfleet audit` computes it after the gather. */
export const auditFixture = async (name: string, options: FixtureOptions = {}): Promise<HostAudit> => {
  const target = await fixtureTarget(options.vars ?? LAB_VARS);
  const text = (options.gather ?? ((x: string) => x))(fixtureGather(name));
  const probes: Record<string, PortState> = { ...fixtureProbes(name) };
  for (const [key, state] of Object.entries(options.probes ?? {})) {
    if (state === undefined) delete probes[key];
    else probes[key] = state;
  }
  return analyseHost({
    target,
    reach: { status: 'audited' },
    outcomes: parseGatherOutput(text, auditFactsFor(target)),
    probes,
    probeErrors: [],
  });
};

export const codes = (audit: HostAudit, severity?: string): string[] =>
  audit.findings.filter((finding) => severity === undefined || finding.severity === severity).map((finding) => finding.code);
