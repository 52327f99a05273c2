// Per-host playbook vars: inventory vars (group, then host, as resolved by the inventory) overlaid
// by extra vars (-e, highest precedence), validated against the playbook's schema. All hosts are
// validated before anything connects; identical problems on many hosts are reported once.

import type { z } from 'zod';
import { PlaybookError, type SourceIssue, type SourcePosition, UsageError } from '../errors.ts';
import { turnTaker } from '../event-loop-turn.ts';
import type { InventoryHost } from '../inventory/types.ts';
import type { AnyPlaybook } from './define-playbook.ts';

export interface ExtraVars {
  readonly vars: Readonly<Record<string, unknown>>;
  /** Where each extra var came from (a vars file position); absent for `-e key=value`. */
  readonly origins: Readonly<Record<string, SourcePosition>>;
}

export const NO_EXTRA_VARS: ExtraVars = { vars: {}, origins: {} };

// Connection and tool variables may be given with -e without being playbook vars.
const isReservedVar = (key: string): boolean => key.startsWith('ansible_') || key.startsWith('casfleet_');

/** Reject -e keys no given playbook declares: a typo must not silently do nothing. */
export const checkExtraVarNames = (playbook: AnyPlaybook | readonly AnyPlaybook[], extra: ExtraVars): void => {
  const playbooks = Array.isArray(playbook) ? playbook : [playbook as AnyPlaybook];
  const known = [...new Set(playbooks.flatMap((each) => Object.keys(each.vars.shape)))];
  const unknown = Object.keys(extra.vars).filter((key) => !known.includes(key) && !isReservedVar(key));
  if (unknown.length > 0) {
    const names = playbooks.map((each) => each.name).join(' or ');
    throw new UsageError(
      `unknown var${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `'${key}'`).join(', ')} for playbook ${names}; ${playbooks.length > 1 ? 'they accept' : 'it accepts'}: ${known.join(', ')}`,
    );
  }
};

// A cross-field issue names the other vars it depends on (params.otherVars, cas/cas-vars.ts); its
// position is its own var's, so where the others were set is said in words.
const otherVarsOf = (params: unknown): string[] => {
  const others = (params as { otherVars?: unknown } | undefined)?.otherVars;
  return Array.isArray(others) ? others.filter((other): other is string => typeof other === 'string') : [];
};

const originOf = (key: string, host: InventoryHost, extra: ExtraVars): string => {
  const position = extra.origins[key] ?? (key in extra.vars ? undefined : host.varOrigins[key]);
  if (position) return `set at ${position.file}:${position.line}:${position.col}`;
  if (key in extra.vars) return 'set with -e';
  return key in host.vars ? 'set in the inventory' : 'its default';
};

/** Validate every host's vars; resolves to the parsed vars per host or rejects with one PlaybookError. */
export const resolveHostVars = async <P extends AnyPlaybook>(
  playbook: P,
  hosts: readonly InventoryHost[],
  extra: ExtraVars,
): Promise<Map<string, z.infer<P['vars']>>> => {
  checkExtraVarNames(playbook, extra);
  const resolved = new Map<string, z.infer<P['vars']>>();
  // Same message at the same place on many hosts → one line listing the hosts.
  const grouped = new Map<string, { issue: SourceIssue; hosts: string[] }>();
  const takeTurn = turnTaker();
  for (const host of hosts) {
    await takeTurn();
    const merged = { ...host.vars, ...extra.vars };
    const parsed = playbook.vars.safeParse(merged);
    if (parsed.success) {
      resolved.set(host.name, parsed.data as z.infer<P['vars']>);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const position = extra.origins[key] ?? (key in extra.vars ? undefined : host.varOrigins[key]);
      const from = key in extra.vars ? ' (from -e)' : '';
      // zod does not keep the input in issues: "missing" is judged from the vars themselves.
      let message = !(key in merged)
        ? `required by playbook ${playbook.name}; set it in the inventory, group_vars/host_vars, or with -e ${key}=…`
        : `${issue.message}${from}`;
      const varPath = issue.path.map(String).join('.');
      const others = issue.code === 'custom' ? otherVarsOf(issue.params) : [];
      for (const other of others) message += `; ${other} is ${originOf(other, host, extra)}`;
      const groupKey = `${position ? `${position.file}:${position.line}:${position.col}` : ''}|${varPath}|${message}`;
      const entry = grouped.get(groupKey);
      if (entry) entry.hosts.push(host.name);
      else grouped.set(groupKey, { issue: { ...(position ? { position } : {}), path: varPath, message }, hosts: [host.name] });
    }
  }
  if (grouped.size > 0) {
    const issues = [...grouped.values()].map(({ issue, hosts: affected }) => ({
      ...issue,
      path: `${describeHosts(affected)}.${issue.path}`,
    }));
    throw new PlaybookError(`invalid vars for playbook ${playbook.name}`, issues);
  }
  return resolved;
};

const describeHosts = (hosts: readonly string[]): string =>
  hosts.length === 1 ? `hosts.${hosts[0]}` : `hosts[${hosts.length}: ${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ', …' : ''}]`;
