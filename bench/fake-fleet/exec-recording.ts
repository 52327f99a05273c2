// The recorded conversation of one real lab host with casfleet, replayed by the fake fleet: every
// exec in the order it ran, with the addresses that differ per host replaced by placeholders.
import { z } from 'zod';

export const HOST_PLACEHOLDER = '\u0000HOST\u0000';
export const CONTROLLER_PLACEHOLDER = '\u0000CTL\u0000';

export const RecordedExecSchema = z.object({
  command: z.string(),
  stdout: z.string(),
  stderr: z.string(),
  code: z.number().int(),
});
export type RecordedExec = z.infer<typeof RecordedExecSchema>;
export const ExecRecordingSchema = z.array(RecordedExecSchema);

const swap = (text: string, from: string, to: string): string => (from === '' ? text : text.split(from).join(to));

/** Real addresses → placeholders (recording) or placeholders → a fake host's addresses (replay). */
export const normalise = (text: string, host: string, controller: string): string =>
  swap(swap(text, host, HOST_PLACEHOLDER), controller, CONTROLLER_PLACEHOLDER);
export const localise = (text: string, host: string, controller: string): string =>
  swap(swap(text, HOST_PLACEHOLDER, host), CONTROLLER_PLACEHOLDER, controller);
