// How run records read in `casfleet runs`: one line per run in the list, and the stage-by-stage view
// of one run. Pure (times are shown in the local time zone, like `ls -l` and `git log`). -e values are
// never printed: they may be secrets.

import { basename } from 'node:path';
import { looksSecret } from '../playbook/secret-vars.ts';
import { printable } from '../report/terminal-text.ts';
import { type HostState, type ResumeCheck, type RunRecord, recordedError, type StateSummary, summarizeRecord } from './run-record.ts';

const pad2 = (value: number): string => String(value).padStart(2, '0');

/** `2026-11-21 13:08` (or with seconds), local time. */
export const formatLocalTime = (iso: string, seconds = false): string => {
  const date = new Date(iso);
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}${seconds ? `:${pad2(date.getSeconds())}` : ''}`;
  return `${day} ${time}`;
};

const STATE_ORDER: readonly HostState[] = ['ok', 'changed', 'failed', 'rolled-back', 'unreachable', 'untouched'];

/** `changed 6 · failed 1 · untouched 43`: the states that have hosts, in a fixed order. */
export const formatSummary = (summary: StateSummary): string =>
  STATE_ORDER.filter((state) => summary[state] > 0)
    .map((state) => `${state} ${summary[state]}`)
    .join(' · ') || 'no hosts';

const stageLabel = (record: RunRecord, index: number): string => record.rollout.stages[index]?.label ?? `stage ${index + 1}`;

/**
 * `halted (batch 2/4: 1 failed, budget 0)`: the status with why it stopped, or where it is. `live`
 * says whether a `running` record's process is still alive.
 */
export const formatStatus = (record: RunRecord, live: boolean): string => {
  if (record.status === 'running' && !live) return `interrupted: its process is gone (pid ${record.controller.pid}); resumable`;
  if (record.haltReason) return `${record.status} (${record.haltReason})`;
  if (record.status !== 'completed' && record.stageReached >= 0) return `${record.status} (at ${stageLabel(record, record.stageReached)})`;
  return record.status;
};

export interface ListRow {
  readonly id: string;
  readonly record?: RunRecord;
  readonly error?: string;
  readonly live?: boolean;
}

/** One aligned line per run, newest first, as given. */
export const formatRunList = (rows: readonly ListRow[]): string[] => {
  const cells = rows.map((row) => {
    const { record } = row;
    if (!record) return { id: row.id, rest: `unreadable: ${(row.error ?? 'unknown error').split('\n')[0]}` };
    return {
      id: row.id,
      when: formatLocalTime(record.createdAt),
      playbook: `${record.playbook.name}${record.check ? ' (check)' : ''}`,
      inventory: basename(record.inventory),
      status: formatStatus(record, row.live ?? false),
      hosts: formatSummary(summarizeRecord(record)),
    };
  });
  const width = (key: 'playbook' | 'inventory' | 'status') => Math.max(0, ...cells.map((cell) => ('rest' in cell ? 0 : cell[key].length)));
  const widths = { playbook: width('playbook'), inventory: width('inventory'), status: width('status') };
  return cells.map((cell) =>
    'rest' in cell
      ? `${cell.id}  ${cell.rest}`
      : [
          cell.id,
          cell.when,
          cell.playbook.padEnd(widths.playbook),
          cell.inventory.padEnd(widths.inventory),
          cell.status.padEnd(widths.status),
          cell.hosts,
        ].join('  '),
  );
};

const budgetText = (budget: number | null): string => (budget === null ? 'unlimited' : String(budget));

const MASK = '********';

/**
 * The record as `runs show --json` prints it: every `key=value` -e argument whose key the record
 * names secret keeps its key and loses its value; an older record without that list masks the
 * keys whose names read like secrets. Anything that is not key=value or @file is masked whole.
 */
export const maskedRecord = (record: RunRecord): RunRecord => {
  const isSecret = (key: string): boolean => (record.secretVars ? record.secretVars.includes(key) : looksSecret(key));
  const extraVars = record.extraVars.map((arg) => {
    if (arg.startsWith('@')) return arg;
    const equals = arg.indexOf('=');
    if (equals < 0) return MASK;
    return isSecret(arg.slice(0, equals).trim()) ? `${arg.slice(0, equals)}=${MASK}` : arg;
  });
  return { ...record, extraVars };
};

/** `-e key=…` for key=value arguments, `@file` as given, anything else as `…`. */
const extraVarShape = (arg: string): string => {
  if (arg.startsWith('@')) return arg;
  const equals = arg.indexOf('=');
  return equals > 0 ? `${arg.slice(0, equals)}=…` : '…';
};

const formatSoak = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

export interface DetailsInput {
  readonly record: RunRecord;
  readonly live: boolean;
  readonly resume: ResumeCheck;
  /** The command that continues the run (shown when it is resumable). */
  readonly resumeCommand: string;
  /** How the inventory path is shown (relative to the working directory when below it). */
  readonly inventoryShown: string;
}

/** The whole run: header, then each stage with its hosts grouped by state, then how to resume. */
export const formatRunDetails = ({ record, live, resume, resumeCommand, inventoryShown }: DetailsInput): string[] => {
  const { rollout } = record;
  const reference =
    record.playbook.reference === record.playbook.name ? record.playbook.name : `${record.playbook.name} (${record.playbook.reference})`;
  const lines = [
    `run ${record.id}: ${formatStatus(record, live)}`,
    `  playbook    ${reference}${record.check ? '   (check mode: nothing was changed)' : ''}`,
    `  inventory   ${inventoryShown}`,
  ];
  if (record.limit !== undefined) lines.push(`  limit       ${record.limit}`);
  if (record.extraVars.length > 0)
    lines.push(`  extra vars  ${record.extraVars.map((arg) => `-e ${extraVarShape(arg)}`).join(' ')}   (values kept in the record)`);
  lines.push(
    `  started     ${formatLocalTime(record.createdAt, true)}   updated ${formatLocalTime(record.updatedAt, true)}`,
    ...(record.resumedAt.length > 0 ? [`  resumed     ${record.resumedAt.map((at) => formatLocalTime(at, true)).join(', ')}`] : []),
    `  rollout     ${rollout.stages.length} stage${rollout.stages.length === 1 ? '' : 's'} · fleet budget ${budgetText(rollout.fleetMaxFail)} · ` +
      `soak ${formatSoak(rollout.soakMs)} · ${rollout.continueOnBatchFailure ? 'continues past a failed batch' : 'halts on a failed batch'}`,
    `  hosts       ${formatSummary(summarizeRecord(record))}`,
  );
  for (const stage of rollout.stages) {
    const position = `stage ${stage.index + 1}/${rollout.stages.length}`;
    const progress = stage.index < record.stageReached ? '' : stage.index === record.stageReached ? '   ← reached' : '   (not started)';
    lines.push(
      '',
      `  ${position}  ${stage.label}  ${stage.hosts.length} host${stage.hosts.length === 1 ? '' : 's'}, budget ${budgetText(stage.maxFail)}${progress}`,
    );
    for (const state of STATE_ORDER) {
      const hosts = stage.hosts.filter((host) => record.hosts[host]?.state === state);
      if (hosts.length === 0) continue;
      if (state === 'failed' || state === 'rolled-back' || state === 'unreachable') {
        for (const host of hosts) {
          const error = recordedError(record.hosts[host]?.error);
          const kind = error?.kind ? ` [${error.kind}]` : '';
          lines.push(`    ${state.padEnd(11)} ${host}${error ? `${kind}: ${printable(error.message.split('\n')[0] ?? '')}` : ''}`);
        }
      } else {
        lines.push(`    ${state.padEnd(11)} ${hosts.join(', ')}`);
      }
    }
  }
  lines.push(
    '',
    resume.resumable
      ? `resume with: ${resumeCommand}   (runs ${resume.hosts.length} host${resume.hosts.length === 1 ? '' : 's'})`
      : `not resumable: ${resume.reason}`,
  );
  return lines;
};
