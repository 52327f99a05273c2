// One error hierarchy for the whole tool. The CLI maps classes to exit codes:
// usage/config/validation errors exit 1 before any host is touched; host-level errors are
// reported per host and make the run exit 2.

/** Where in a source file something went wrong (1-based line and column). */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem in a user-supplied file or argument, rendered as `file:line:col: path: message`. */
export interface SourceIssue {
  readonly position?: SourcePosition;
  /** Dotted path inside the document (`all.children.canary.hosts.cas-01.ansible_port`). */
  readonly path: string;
  readonly message: string;
}

export const formatSourceIssue = ({ position, path, message }: SourceIssue): string => {
  const where = position ? `${position.file}:${position.line}:${position.col}: ` : '';
  return `${where}${path ? `${path}: ` : ''}${message}`;
};

export interface CasfleetErrorOptions {
  readonly host?: string;
  readonly step?: string;
  readonly cause?: unknown;
}

// A user playbook loaded from TypeScript sources may carry its own copy of this module next to the
// compiled CLI's, so errors are recognised by a registered symbol rather than by class identity.
const BRAND = Symbol.for('casfleet.error');

export class CasfleetError extends Error {
  readonly host?: string;
  readonly step?: string;
  readonly [BRAND] = true;

  constructor(message: string, options: CasfleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.host !== undefined) this.host = options.host;
    if (options.step !== undefined) this.step = options.step;
  }
}

/** Bad command line: unknown flag, missing argument, pattern that matches nothing. Exit 1. */
export class UsageError extends CasfleetError {}

/** A user file (inventory, vars, config, playbook) failed validation. Exit 1; lists every issue. */
export class ValidationError extends CasfleetError {
  readonly issues: readonly SourceIssue[];

  constructor(summary: string, issues: readonly SourceIssue[], options: CasfleetErrorOptions = {}) {
    super([summary, ...issues.map((issue) => `  ${formatSourceIssue(issue)}`)].join('\n'), options);
    this.issues = issues;
  }
}

export class InventoryError extends ValidationError {}
export class ConfigError extends ValidationError {}
export class PlaybookError extends ValidationError {}

/**
 * A file or directory casfleet would read code, vars, host keys or run records from could have been
 * planted or changed by another user (wrong owner, writable by others, a symlink where none may be).
 * Found before any host is contacted: exit 1.
 */
export class TrustError extends CasfleetError {}

/** Could not reach or authenticate to a host: the host counts as unreachable. */
export class ConnectError extends CasfleetError {}

/** The host presented a key that known_hosts does not vouch for. Nothing runs on that host. */
export class HostKeyError extends ConnectError {}

/** The host refused every credential casfleet offered. */
export class AuthError extends ConnectError {}

/** A remote command exited non-zero, timed out, or its channel was lost. */
export class RemoteCommandError extends CasfleetError {
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(message: string, exitCode: number | null, stderr: string, options: CasfleetErrorOptions = {}) {
    super(message, options);
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** sudo refused before running anything: the become password is missing or wrong. */
export class SudoError extends RemoteCommandError {}

/** Remote output did not have the shape a fact parser expects. */
export class FactError extends CasfleetError {}

/**
 * A step cannot plan a way to its desired state from the facts it read (e.g. a file to restore has no
 * backup, or the desired firewall rules have no SSH allow). Nothing is applied on that host; the step fails.
 */
export class StepPlanError extends CasfleetError {}

/** The lab could not be built, inspected or torn down. */
export class LabError extends CasfleetError {}

/**
 * A run record (runs/<id>.json) could not be read, written or resumed: corrupt JSON, a schema
 * mismatch, a run that is still going. Found before any host is contacted on --resume: exit 1.
 */
export class RunRecordError extends CasfleetError {}

export const isCasfleetError = (error: unknown): error is CasfleetError =>
  typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;

const SETUP_ERRORS = new Set([
  'UsageError',
  'ValidationError',
  'InventoryError',
  'ConfigError',
  'PlaybookError',
  'LabError',
  'RunRecordError',
  'TrustError',
]);

/** Errors found before any host is contacted (exit 1), by name for the same reason as the brand. */
export const isSetupError = (error: CasfleetError): boolean => SETUP_ERRORS.has(error.name);
