// What a host's run may change, from what its steps declare (Step.touches): the files to snapshot,
// whether the live filter tables change, and which handlers must run again after a restore (a
// restored gate.properties means nothing until gate restarts, exactly as after the change itself).
import type { RemoteCommand } from '../command/shell.ts';
import type { PlaybookItem } from '../playbook/define-playbook.ts';
import { type Handler, isFlushHandlers, type Step } from '../steps/step.ts';

/** A handler to run after a restore when any of `files` was put back. */
export interface RestoreRestart {
  readonly name: string;
  readonly command: RemoteCommand;
  readonly files: readonly string[];
}

export interface TouchedState {
  /** Files to snapshot, each once, in step order. */
  readonly files: readonly string[];
  readonly firewall: boolean;
  readonly restarts: readonly RestoreRestart[];
}

export const touchedState = (items: readonly PlaybookItem[], handlers: Readonly<Record<string, Handler>>): TouchedState => {
  const steps = items.filter((item): item is Step => !isFlushHandlers(item));
  const files = [...new Set(steps.flatMap((step) => step.touches?.files ?? []))];
  const restarts = new Map<string, { command: RemoteCommand; files: Set<string> }>();
  for (const step of steps) {
    for (const name of step.notify ?? []) {
      const handler = handlers[name];
      const stepFiles = step.touches?.files ?? [];
      if (!handler || stepFiles.length === 0) continue;
      const entry = restarts.get(name) ?? { command: handler.command, files: new Set<string>() };
      for (const file of stepFiles) entry.files.add(file);
      restarts.set(name, entry);
    }
  }
  return {
    files,
    firewall: steps.some((step) => step.touches?.firewall === true),
    restarts: [...restarts.entries()].map(([name, { command, files: restartFiles }]) => ({ name, command, files: [...restartFiles] })),
  };
};
