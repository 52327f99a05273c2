// Ansible's INI inventory format:
//   cas-00                         hosts before any section are `ungrouped`
//   [canary]                       hosts of a group, each with optional inline `key=value` vars
//   cas-[01:03] ansible_port=2222
//   [canary:vars]                  one `key=value` per line
//   [fleet:children]               one group name per line
// Comments are lines starting with `#` or `;`, and on host lines everything from a `#` outside
// quotes (ini-tokens.ts). Values are typed by parseFlowValue (`22` a number, `"22"` a string, `yes`
// a boolean; see flow-value.ts). In a :vars line a ` # ` ends a typed value (`port = 22 # ssh`) but
// belongs to a text value (`motd = keep # calm`), as Ansible reads it. `host:port` sets the port
// only where the host is first declared. Problems are collected, not thrown, so one run reports
// every bad line.

import type { SourceIssue, SourcePosition } from '../errors.ts';
import { checkVar, type VarScope } from './connection-vars.ts';
import { parseFlowValue } from './flow-value.ts';
import { parseHostSpec } from './host-range.ts';
import { tokenizeIniLine } from './ini-tokens.ts';
import { ALL, InventoryBuilder, type ParsedSource, UNGROUPED } from './inventory-builder.ts';

// Ansible's own section pattern: a name without spaces, `:` or `]`, then an optional `:kind`.
const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:[#;].*)?$/;

type SectionKind = 'hosts' | 'vars' | 'children';

interface Section {
  readonly group: string;
  /** undefined after a bad header: its lines are skipped rather than misread. */
  readonly kind: SectionKind | undefined;
}

interface Pending {
  readonly position: SourcePosition;
  readonly message: string;
}

/**
 * A :vars value. Ansible evaluates it as a Python literal, where `# …` is a comment, and keeps the
 * whole text when it is no literal; so a typed value ends at ` #`, and text keeps it.
 */
const varLineValue = (text: string): unknown => {
  const value = parseFlowValue(text);
  const trimmed = text.trim();
  return typeof value === 'string' && !/^["']/.test(trimmed) ? trimmed : value;
};

class IniInventoryReader {
  readonly builder = new InventoryBuilder();
  readonly issues: SourceIssue[] = [];
  // `[g]` or `[g:children]` declares a group; `[g:vars]` and a `g` line under [p:children] only
  // refer to it, so they are checked at the end, when every declaration has been seen.
  private readonly declared = new Set([ALL, UNGROUPED]);
  private readonly references = new Map<string, Pending>();
  private section: Section = { group: UNGROUPED, kind: 'hosts' };
  private lineNumber = 0;

  constructor(private readonly file: string) {}

  private at(col: number): SourcePosition {
    return { file: this.file, line: this.lineNumber, col };
  }

  private issue(col: number, path: string, message: string): void {
    this.issues.push({ position: this.at(col), path, message });
  }

  readLine(raw: string, lineNumber: number): void {
    this.lineNumber = lineNumber;
    const text = raw.trim();
    if (text === '' || text.startsWith('#') || text.startsWith(';')) return;
    const indent = raw.length - raw.trimStart().length;
    // As in Ansible: a section header, or a line that looks like a broken one; anything else
    // (`[01:10].example.com`, `[2001:db8::1]:22`) belongs to the current section.
    if (SECTION.test(text) || (text.startsWith('[') && text.endsWith(']'))) {
      this.readSection(text, indent + 1);
      return;
    }
    const { group, kind } = this.section;
    if (kind === 'hosts') this.readHostLine(raw, group);
    else if (kind === 'vars') this.readVarLine(raw, group);
    else if (kind === 'children') this.readChildLine(text, indent + 1, group);
  }

  private readSection(text: string, col: number): void {
    const match = SECTION.exec(text);
    if (!match) {
      this.issue(col, '', `invalid section header '${text}': a group name has no spaces, ':' or ']' (then optionally :vars or :children)`);
      this.section = { group: '', kind: undefined };
      return;
    }
    const group = match[1] as string;
    const kind = match[2] ?? 'hosts';
    if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
      this.issue(col, `[${group}:${kind}]`, `unknown section kind '${kind}': expected [${group}], [${group}:vars] or [${group}:children]`);
      this.section = { group, kind: undefined };
      return;
    }
    this.section = { group, kind };
    if (kind === 'vars') {
      if (!this.references.has(group)) {
        this.references.set(group, { position: this.at(col), message: `[${group}:vars] is for a group that is not defined anywhere` });
      }
      return;
    }
    this.declared.add(group);
    this.builder.group(group);
  }

  private readHostLine(raw: string, group: string): void {
    const tokenized = tokenizeIniLine(raw);
    if (!tokenized.ok) {
      this.issue(tokenized.col, `${group}.hosts`, tokenized.message);
      return;
    }
    const [first, ...rest] = tokenized.tokens;
    if (!first) return;
    const spec = parseHostSpec(first.text);
    if (!spec.ok) {
      this.issue(first.col, `${group}.hosts`, spec.message);
      return;
    }
    const hostPath = `${group}.hosts.${first.text}`;
    const vars: { key: string; value: unknown; position: SourcePosition }[] = [];
    // Ansible creates a host with the port of its first declaration; later ones only add vars.
    if (spec.port !== undefined && spec.names.every((host) => !this.builder.hasHost(host))) {
      this.check('ansible_port', spec.port, first.col, `${hostPath}.ansible_port`, 'host');
      vars.push({ key: 'ansible_port', value: spec.port, position: this.at(first.col) });
    }
    for (const token of rest) {
      const equals = token.text.indexOf('=');
      if (equals <= 0) {
        this.issue(token.col, hostPath, `expected key=value after the host name, got '${token.text}'`);
        continue;
      }
      const key = token.text.slice(0, equals);
      const value = parseFlowValue(token.text.slice(equals + 1));
      const col = token.col + equals + 1;
      this.check(key, value, col, `${hostPath}.${key}`, 'host');
      vars.push({ key, value, position: this.at(col) });
    }
    for (const host of spec.names) {
      this.builder.addHost(group, host);
      for (const { key, value, position } of vars) this.builder.setHostVar(host, key, { value, position });
    }
  }

  private readVarLine(raw: string, group: string): void {
    const equals = raw.indexOf('=');
    const key = equals < 0 ? '' : raw.slice(0, equals).trim();
    if (key === '') {
      const col = raw.length - raw.trimStart().length + 1;
      this.issue(col, `${group}.vars`, `expected key=value, got '${raw.trim()}'`);
      return;
    }
    const after = raw.slice(equals + 1);
    const col = equals + 2 + (after.length - after.trimStart().length);
    const value = varLineValue(after);
    this.check(key, value, col, `${group}.vars.${key}`, 'group');
    this.builder.setGroupVar(group, key, { value, position: this.at(col) });
  }

  private readChildLine(text: string, col: number, group: string): void {
    const match = GROUP_NAME.exec(text);
    if (!match) {
      this.issue(col, `${group}.children`, `expected one group name per line, got '${text}'`);
      return;
    }
    const child = match[1] as string;
    const loop = this.builder.addChild(group, child);
    if (loop !== undefined) {
      this.issue(col, `${group}.children.${child}`, loop);
      return;
    }
    if (!this.references.has(child)) {
      this.references.set(child, {
        position: this.at(col),
        message: `[${group}:children] lists '${child}', a group that is not defined anywhere`,
      });
    }
  }

  private check(key: string, value: unknown, col: number, path: string, scope: VarScope): void {
    const problem = checkVar(key, value, scope);
    if (problem !== undefined) this.issue(col, path, problem);
  }

  finish(): void {
    for (const [group, pending] of this.references) {
      if (!this.declared.has(group)) this.issues.push({ position: pending.position, path: '', message: pending.message });
    }
  }
}

export const parseIniInventory = (text: string, file: string): ParsedSource => {
  const reader = new IniInventoryReader(file);
  for (const [index, line] of text.split(/\r?\n/).entries()) reader.readLine(line, index + 1);
  reader.finish();
  return { inventory: reader.builder.build(), issues: reader.issues, warnings: [] };
};
