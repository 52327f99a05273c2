// A reporter consumes the event stream and writes to one stream; `finish` flushes after the recap.
import type { RunEvent } from './events.ts';

export interface Reporter {
  emit(event: RunEvent): void;
  /** Stop drawing (and print what happened so far) so the terminal is free for a question. */
  suspend(): Promise<void>;
  resume(): void;
  finish(): Promise<void>;
}

export type Write = (text: string) => void;
