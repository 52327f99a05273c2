// A reporter consumes the event stream and writes to one stream; `finish` flushes after the recap.
import type { RunEvent } from './events.ts';

export interface Reporter {
  emit(event: RunEvent): void;
  finish(): Promise<void>;
}

export type Write = (text: string) => void;
