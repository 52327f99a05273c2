// Which recorded exec answers an incoming command on one fake host. Commands carry per-run details
// (transaction ids, timestamps), so they are matched by their first line; the host's cursor moves
// forward through the recording (fresh gather, apply, arm, confirming re-read, disarm, re-run) and a
// command seen again after the end gets its latest recorded answer (the host stays applied).
import type { RecordedExec } from './exec-recording.ts';

const firstLine = (command: string): string => command.slice(0, command.indexOf('\n') >>> 0);

export class ReplayCursor {
  #next = 0;
  readonly #recording: readonly RecordedExec[];
  readonly #keys: readonly string[];

  constructor(recording: readonly RecordedExec[]) {
    this.#recording = recording;
    this.#keys = recording.map((exec) => firstLine(exec.command));
  }

  /** The recorded answer, or undefined when the recording never saw such a command. */
  answer(command: string): RecordedExec | undefined {
    const key = firstLine(command);
    const ahead = this.#keys.indexOf(key, this.#next);
    if (ahead >= 0) {
      this.#next = ahead + 1;
      return this.#recording[ahead];
    }
    const latest = this.#keys.lastIndexOf(key);
    return latest >= 0 ? this.#recording[latest] : undefined;
  }
}
