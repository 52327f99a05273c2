// Facts for all steps of a host are read in ONE remote exec: every fact's snippet runs framed by
// marker lines that cannot occur in normal output (they start with ASCII RS). A snippet runs in a
// subshell of its own, so an `exit` or a `set -f` in it cannot reach the facts after it, unless the
// fact is marked inline (see Fact.inline): each subshell is a fork of the host's shell, about 0.4 ms
// of the host's CPU, and a gather reads a dozen facts. Parsing the framed output back is pure, so
// the protocol is unit-tested without a host.

import { quote } from '../command/shell.ts';
import { FactError } from '../errors.ts';
import type { AnyFact } from './fact.ts';

const MARK = '\u001ecasfleet';

// Facts parse what the host's tools print, and a session may run in the host's own language
// (pam_env reads /etc/default/locale: `stat %F` then says "reguläre Datei"), so they read in the C
// locale. The session's own comes back after them: the changes that follow in the same shell run as
// the operator's would, and a service they restart (CAS's gate, started by batm-manage) inherits
// it: a JVM started under LC_ALL=C takes US-ASCII for file names, and before Java 18 for its
// default charset too.
const ENTER_C_LOCALE = `cf_lc_all=\${LC_ALL-} cf_lc_all_set=\${LC_ALL+set}\nLC_ALL=C; export LC_ALL\n`;
const LEAVE_C_LOCALE = '\nif [ -n "$cf_lc_all_set" ]; then LC_ALL=$cf_lc_all; else unset LC_ALL; fi';

/** Build the script that prints every fact's raw output between markers (none for no facts). */
export const buildGatherScript = (facts: readonly AnyFact[]): string => {
  if (facts.length === 0) return '';
  const preludes = preludeArgs(facts);
  const emitted = new Set<string>();
  return (
    ENTER_C_LOCALE +
    facts
      .map((fact) => {
        const { prelude } = fact;
        // Right before the first fact that reads it: the shorter the time between the shared read
        // and the facts' own, the less a file can change in between.
        const first = prelude !== undefined && !emitted.has(prelude.key);
        if (first) emitted.add(prelude.key);
        const shared = first ? `${prelude.script(preludes.get(prelude.key) ?? [])}\n` : '';
        return (
          shared +
          `printf '%s\\n' ${quote(`${MARK}-fact ${fact.id}`)}\n` +
          (fact.inline ? `{ ${fact.script}\n} </dev/null\n` : `( ${fact.script}\n) </dev/null\n`) +
          `printf '\\n%s %s\\n' ${quote(`${MARK}-end ${fact.id}`)} "$?"`
        );
      })
      .join('\n') +
    LEAVE_C_LOCALE
  );
};

/** The arguments of each prelude key, in fact order, without duplicates. */
const preludeArgs = (facts: readonly AnyFact[]): Map<string, string[]> => {
  const byKey = new Map<string, string[]>();
  for (const { prelude } of facts) {
    if (!prelude) continue;
    const args = byKey.get(prelude.key) ?? [];
    if (!args.includes(prelude.arg)) args.push(prelude.arg);
    byKey.set(prelude.key, args);
  }
  return byKey;
};

/** One fact's outcome: its parsed value, or why it could not be read. */
export type FactOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: FactError };

/** Split the framed output and parse each section with its fact's parser. */
export const parseGatherOutput = (output: string, facts: readonly AnyFact[], stderr = ''): ReadonlyMap<string, FactOutcome> => {
  const outcomes = new Map<string, FactOutcome>();
  // Facts usually come in the order they are asked for: each is looked for after the one before
  // (searching the whole output for every fact cost a fleet's controller a few ms per host).
  let from = 0;
  for (const fact of facts) {
    const startMarker = `${MARK}-fact ${fact.id}\n`;
    const ahead = output.indexOf(startMarker, from);
    const start = ahead < 0 ? output.indexOf(startMarker) : ahead;
    const endMarker = `\n${MARK}-end ${fact.id} `;
    const end = start < 0 ? -1 : output.indexOf(endMarker, start);
    if (end >= 0) from = end + endMarker.length;
    if (start < 0 || end < 0) {
      outcomes.set(fact.id, {
        ok: false,
        error: new FactError(`fact ${fact.id}: no output (the gather script stopped early)${stderrNote(stderr)}`),
      });
      continue;
    }
    const body = output.slice(start + MARK.length + '-fact '.length + fact.id.length + 1, end);
    const status = Number.parseInt(output.slice(end + endMarker.length), 10);
    if (status !== 0) {
      outcomes.set(fact.id, {
        ok: false,
        error: new FactError(`fact ${fact.id}: its script exited ${status}${stderrNote(stderr)}`),
      });
      continue;
    }
    try {
      outcomes.set(fact.id, { ok: true, value: fact.parse(body) });
    } catch (error) {
      outcomes.set(fact.id, {
        ok: false,
        error: error instanceof FactError ? error : new FactError(`fact ${fact.id}: ${String(error)}`, { cause: error }),
      });
    }
  }
  return outcomes;
};

const stderrNote = (stderr: string): string => {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ');
  return tail ? ` (stderr: ${tail})` : '';
};

/** Marker printed after an applied change, carrying its exit status, before the re-gather. */
export const APPLY_STATUS_MARK = `${MARK}-applied`;
