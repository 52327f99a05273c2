// What failed, as data: `error: { kind, message }` on every failure event and in the run record, so
// a --json consumer or a script reading runs/<id>.json can tell an SSH failure from a refusal without
// matching message text. Each failure is classified where it is known (the SSH layer, the planner
// call, the apply, the gate); errors that carry their class are mapped here by name.

import { z } from 'zod';

export const ERROR_KINDS = [
  'connect',
  'host-key',
  'auth',
  'sudo',
  'fact',
  'plan',
  'apply',
  'verify',
  'rollback',
  'probe',
  'internal',
] as const;

export const errorKindSchema = z.enum(ERROR_KINDS);
export type ErrorKind = z.infer<typeof errorKindSchema>;

export const errorInfoSchema = z.object({
  kind: errorKindSchema,
  message: z.string(),
  /** Only for `internal`: where the bug is. */
  stack: z.string().optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

// By name, not class: a user playbook may bring its own copy of src/errors.ts (see its BRAND).
// A RemoteCommandError is absent on purpose: a command that failed or timed out is a fact error
// while gathering and an apply error while changing, which only the caller knows.
const KIND_BY_CLASS: Readonly<Record<string, ErrorKind>> = {
  HostKeyError: 'host-key',
  AuthError: 'auth',
  ConnectError: 'connect',
  SudoError: 'sudo',
  FactError: 'fact',
  StepPlanError: 'plan',
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The kind an error's class says, if its class says one. */
const errorKindOf = (error: unknown): ErrorKind | undefined => (error instanceof Error ? KIND_BY_CLASS[error.name] : undefined);

/** A failure of a known kind. */
export const errorInfo = (kind: ErrorKind, message: string): ErrorInfo => ({ kind, message });

/** A caught error: its own class decides the kind where it has one, else `fallback`. */
export const classifyError = (error: unknown, fallback: ErrorKind): ErrorInfo =>
  errorInfo(errorKindOf(error) ?? fallback, messageOf(error));

/** An exception nobody meant to throw (TypeError and the like): a bug in casfleet or a playbook's code. */
export const internalError = (error: unknown, where: string): ErrorInfo => {
  const name = error instanceof Error ? error.name : typeof error;
  const message = `internal error in ${where}: ${name}: ${messageOf(error)} (a bug in casfleet or the playbook's code, not a refusal; -v prints the stack)`;
  const stack = error instanceof Error ? error.stack : undefined;
  return stack === undefined ? errorInfo('internal', message) : { kind: 'internal', message, stack };
};

/** The same failure with context put in front of (or after) its message. */
export const withMessage = (info: ErrorInfo, message: (text: string) => string): ErrorInfo => ({ ...info, message: message(info.message) });
