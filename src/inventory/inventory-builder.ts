// What an inventory file says, whatever its format: groups with their direct hosts, children and
// inline vars, and hosts with their inline vars, every var with the place it was written. The YAML
// and INI parsers both fill an InventoryBuilder; precedence.ts turns the result into an Inventory.

import type { SourceIssue, SourcePosition } from '../errors.ts';
import { GROUP_PRIORITY_VAR, groupPriority } from './connection-vars.ts';

export interface VarDefinition {
  readonly value: unknown;
  readonly position: SourcePosition;
}

export type VarDefinitions = ReadonlyMap<string, VarDefinition>;

export interface ParsedGroup {
  readonly name: string;
  /** Hosts listed in this group itself, in the order written. */
  readonly hosts: readonly string[];
  /** Direct child groups (after build(): `all` has every group that has no other parent). */
  readonly children: readonly string[];
  /** Vars written for the group in the inventory file. */
  readonly vars: VarDefinitions;
  /** ansible_group_priority (default 1): among groups at the same depth, higher wins. */
  readonly priority: number;
}

export interface ParsedInventory {
  /** `all` first, then in definition order, `ungrouped` last. */
  readonly groups: ReadonlyMap<string, ParsedGroup>;
  /** Every host, in inventory order (first appearance), with the vars written for it. */
  readonly hosts: ReadonlyMap<string, VarDefinitions>;
}

/** What a format parser returns: the inventory it read and every problem it found. */
export interface ParsedSource {
  readonly inventory: ParsedInventory;
  readonly issues: readonly SourceIssue[];
  readonly warnings: readonly SourceIssue[];
}

interface MutableGroup {
  readonly name: string;
  readonly hosts: string[];
  /** The same hosts, for membership checks: a group of 1000 hosts is no 1000² scan. */
  readonly hostSet: Set<string>;
  readonly children: string[];
  readonly vars: Map<string, VarDefinition>;
  priority: number;
}

export const ALL = 'all';
export const UNGROUPED = 'ungrouped';

export class InventoryBuilder {
  private readonly groups = new Map<string, MutableGroup>();
  private readonly hosts = new Map<string, Map<string, VarDefinition>>();
  private readonly parents = new Map<string, Set<string>>();

  constructor() {
    this.group(ALL);
  }

  /** Declares a group (idempotent): a group may be written in several places, Ansible merges them. */
  group(name: string): void {
    if (this.groups.has(name)) return;
    this.groups.set(name, { name, hosts: [], hostSet: new Set(), children: [], vars: new Map(), priority: 1 });
    this.parents.set(name, new Set());
  }

  addHost(group: string, host: string): void {
    this.group(group);
    const target = this.groups.get(group) as MutableGroup;
    if (!target.hostSet.has(host)) {
      target.hostSet.add(host);
      target.hosts.push(host);
    }
    if (!this.hosts.has(host)) this.hosts.set(host, new Map());
  }

  hasHost(host: string): boolean {
    return this.hosts.has(host);
  }

  /** A later definition of the same host var wins, as when Ansible reads the file top to bottom. */
  setHostVar(host: string, name: string, definition: VarDefinition): void {
    let vars = this.hosts.get(host);
    if (!vars) {
      vars = new Map();
      this.hosts.set(host, vars);
    }
    vars.set(name, definition);
  }

  setGroupVar(group: string, name: string, definition: VarDefinition): void {
    this.group(group);
    const target = this.groups.get(group) as MutableGroup;
    // Ansible turns this var into the group's priority instead of keeping it as a var.
    if (name === GROUP_PRIORITY_VAR) {
      const priority = groupPriority(definition.value);
      if (priority !== undefined) target.priority = priority;
      return;
    }
    target.vars.set(name, definition);
  }

  /** Makes `child` a child of `parent`; returns the problem instead when that would make a loop. */
  addChild(parent: string, child: string): string | undefined {
    if (child === ALL) return `'${ALL}' cannot be a child group: every group is already inside it`;
    if (child === parent || this.isInside(parent, child)) {
      return `group '${child}' cannot be a child of '${parent}': '${parent}' is already inside '${child}'`;
    }
    this.group(parent);
    this.group(child);
    const target = this.groups.get(parent) as MutableGroup;
    if (!target.children.includes(child)) target.children.push(child);
    this.parents.get(child)?.add(parent);
    return undefined;
  }

  /** Whether `group` is `ancestor` or lies somewhere below it. */
  private isInside(group: string, ancestor: string): boolean {
    if (group === ancestor) return true;
    return [...(this.parents.get(group) ?? [])].some((parent) => this.isInside(parent, ancestor));
  }

  /**
   * Adds what Ansible adds after reading a source: groups without a parent become children of
   * `all`, and `ungrouped` holds exactly the hosts that are in no other group.
   */
  build(): ParsedInventory {
    this.group(UNGROUPED);
    const ungrouped = this.groups.get(UNGROUPED) as MutableGroup;
    const grouped = new Set<string>();
    for (const group of this.groups.values()) {
      if (group.name === ALL || group.name === UNGROUPED) continue;
      for (const host of group.hosts) grouped.add(host);
    }
    const ungroupedHosts = [...this.hosts.keys()].filter((host) => !grouped.has(host));
    // Not splice(…, ...hosts): a spread passes every host as an argument, past the call stack's
    // limit for a large inventory.
    ungrouped.hosts.length = 0;
    for (const host of ungroupedHosts) ungrouped.hosts.push(host);

    const ordered = [...this.groups.values()].filter((group) => group.name !== UNGROUPED);
    ordered.push(ungrouped);
    for (const group of ordered) {
      if (group.name !== ALL && (this.parents.get(group.name)?.size ?? 0) === 0) this.addChild(ALL, group.name);
    }
    // all.children in definition order, whether a group was written under `all` or beside it.
    const rank = new Map(ordered.map((group, index) => [group.name, index]));
    (this.groups.get(ALL) as MutableGroup).children.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
    const freeze = (group: MutableGroup): ParsedGroup => ({
      name: group.name,
      hosts: [...group.hosts],
      children: [...group.children],
      vars: new Map(group.vars),
      priority: group.priority,
    });
    return {
      groups: new Map(ordered.map((group) => [group.name, freeze(group)])),
      hosts: new Map([...this.hosts].map(([host, vars]) => [host, new Map(vars)])),
    };
  }
}
