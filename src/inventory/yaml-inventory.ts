// Ansible's YAML inventory format (also JSON): top-level keys are groups (usually just `all`),
// each group a mapping with optional `hosts`, `vars` and `children`; a host's body is its vars
// or empty. As in Ansible, a section may also be one bare name (`hosts: cas-01`), which reads as
// a mapping of that name to nothing. The whole document is checked against one zod schema, then walked node by node so
// every var keeps the position it was written at.

import { isScalar, type Node } from 'yaml';
import { z } from 'zod';
import type { SourceIssue } from '../errors.ts';
import { checkVar, groupVarsSchema, varsSchema } from './connection-vars.ts';
import { describeValue, mustBe } from './describe-value.ts';
import { parseHostSpec } from './host-range.ts';
import { InventoryBuilder, type ParsedSource } from './inventory-builder.ts';
import {
  type MapEntry,
  mapEntries,
  nodePosition,
  nodeValue,
  type ParsedYaml,
  parseYaml,
  resolveAlias,
  type YamlSource,
} from './yaml-source.ts';
import { dottedPath, issuesFromZod } from './zod-issues.ts';

const VARS = 'a mapping of variable names to values';
const GROUP_KEYS = ['hosts', 'vars', 'children'];
// `cas-01:` with nothing after it is a host without vars; same for empty vars/hosts/children.
/** Ansible turns a section written as one string into a mapping of that name to nothing. */
const nameAsMapping = (value: unknown): unknown => (typeof value === 'string' ? { [value]: null } : value);
const hostsSchema = z.preprocess(
  nameAsMapping,
  z.record(z.string(), varsSchema(VARS).nullable(), mustBe('a mapping of host names to their vars')).nullable(),
);

const groupSchema: z.ZodType = z
  .strictObject(
    {
      hosts: hostsSchema.optional(),
      vars: z.preprocess(nameAsMapping, groupVarsSchema(VARS).nullable()).optional(),
      get children() {
        return z
          .preprocess(nameAsMapping, z.record(z.string(), groupSchema, mustBe('a mapping of group names to groups')).nullable())
          .optional();
      },
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? 'unknown key: a group has only hosts, vars and children'
          : `must be a group: a mapping with hosts, vars and/or children (got ${describeValue(issue.input)})`,
    },
  )
  .nullable();

const inventorySchema = z.record(z.string(), groupSchema, mustBe('a mapping of group names (all, …) to groups')).nullable();

/** The entries of a section: a mapping's, or the one name a bare string section stands for. */
const sectionEntries = (source: YamlSource, node: Node | null): MapEntry[] => {
  const resolved = resolveAlias(source, node);
  if (isScalar(resolved) && typeof resolved.value === 'string')
    return [{ key: resolved.value, keyNode: resolved as Node, valueNode: null }];
  return mapEntries(source, node);
};

class YamlInventoryReader {
  readonly builder = new InventoryBuilder();
  readonly issues: SourceIssue[] = [];

  constructor(private readonly source: YamlSource) {}

  private issue(entry: MapEntry, path: readonly string[], message: string): void {
    this.issues.push({ position: nodePosition(this.source, entry.keyNode), path: dottedPath(path), message });
  }

  private definition(entry: MapEntry) {
    return { value: nodeValue(this.source, entry.valueNode), position: nodePosition(this.source, entry.valueNode, entry.keyNode) };
  }

  readGroup(entry: MapEntry, path: readonly string[], parent: string | undefined): void {
    const name = entry.key;
    if (parent === undefined) {
      this.builder.group(name);
    } else {
      const loop = this.builder.addChild(parent, name);
      if (loop !== undefined) {
        this.issue(entry, path, loop);
        return;
      }
    }
    // Structure errors were reported by the schema; mapEntries() yields nothing for non-mappings.
    for (const section of mapEntries(this.source, entry.valueNode)) {
      const sectionPath = [...path, section.key];
      const items = sectionEntries(this.source, section.valueNode);
      if (section.key === 'vars') {
        for (const item of items) this.builder.setGroupVar(name, item.key, this.definition(item));
      } else if (section.key === 'hosts') {
        for (const item of items) this.readHost(name, item, [...sectionPath, item.key]);
      } else if (section.key === 'children') {
        for (const item of items) this.readGroup(item, [...sectionPath, item.key], name);
      }
    }
  }

  private readHost(group: string, entry: MapEntry, path: readonly string[]): void {
    const spec = parseHostSpec(entry.key);
    if (!spec.ok) {
      this.issue(entry, path, spec.message);
      return;
    }
    const vars = mapEntries(this.source, entry.valueNode);
    // A host's body is its vars; `vars:` here would quietly define a var named "vars" and leave
    // the connection vars inside it unapplied.
    for (const misplaced of vars.filter((item) => GROUP_KEYS.includes(item.key))) {
      this.issue(
        misplaced,
        [...path, misplaced.key],
        `a host's vars go directly under the host name; '${misplaced.key}' belongs to groups`,
      );
    }
    for (const host of spec.names) {
      // Ansible creates a host with the port of its first declaration; later ones only add vars.
      const firstDeclaration = !this.builder.hasHost(host);
      this.builder.addHost(group, host);
      if (spec.port !== undefined && firstDeclaration) {
        const problem = checkVar('ansible_port', spec.port, 'host');
        if (problem !== undefined) this.issue(entry, path, `port ${problem}`);
        this.builder.setHostVar(host, 'ansible_port', { value: spec.port, position: nodePosition(this.source, entry.keyNode) });
      }
      for (const item of vars) this.builder.setHostVar(host, item.key, this.definition(item));
    }
  }
}

export const parseYamlInventory = (text: string, file: string): ParsedSource => readYamlInventory(parseYaml(text, file));

/** The inventory a parsed YAML document describes (parseYamlYielding gives one for a large file). */
export const readYamlInventory = (parsed: ParsedYaml): ParsedSource => {
  const reader = new YamlInventoryReader(parsed.source);
  // A document with syntax errors is only partly there: report the syntax, nothing built on it.
  if (parsed.issues.length > 0) {
    return { inventory: reader.builder.build(), issues: parsed.issues, warnings: parsed.warnings };
  }
  const root = parsed.source.doc.contents;
  const checked = inventorySchema.safeParse(nodeValue(parsed.source, root));
  if (!checked.success) reader.issues.push(...issuesFromZod(parsed.source, checked.error.issues));
  for (const entry of mapEntries(parsed.source, root)) reader.readGroup(entry, [entry.key], undefined);
  return { inventory: reader.builder.build(), issues: reader.issues, warnings: parsed.warnings };
};
