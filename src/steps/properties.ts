// One key of a Java .properties file (e.g. batm.vpn-skip in /batm/config/gate.properties), set
// idempotently: every other line, comment, blank and line terminator stays byte-for-byte.
//
// Decisions:
// - An absent FILE is a plan error, not created: CAS generates gate.properties with its defaults on
//   the first `batm-manage start gate` [C] SCN, and a file holding only our key might stop that [I].
//   With `acceptAbsent`, an absent file (hence an absent key) is compliant.
// - A duplicated key: Java keeps the last occurrence, so that one is read and rewritten; the step
//   warns so the operator can clean the file up.
// - The write is atomic and backed up (remote-file.ts), with the owner/group/mode from the file fact,
//   refuses to run if the file changed after the facts were read, and replaces nothing unless the
//   new content arrived whole (length and SHA-256 checked on the host).
import { z } from 'zod';
import { StepPlanError } from '../errors.ts';
import { absolutePathSchema, parseArgs } from '../facts/args.ts';
import { FILE_TYPE_NAMES, type FileState, fileFact } from '../facts/file.ts';
import { setProperty } from './properties-edit.ts';
import { atomicWrite, sha256Latin1 } from './remote-file.ts';
import { defineStep, noChange, type Step, type StepPlan } from './step.ts';

export const propertiesKeySchema = z
  .object({
    file: absolutePathSchema,
    key: z
      .string()
      .min(1)
      .regex(/^[^\r\n]+$/, 'must be one line'),
    value: z.union([z.string(), z.number(), z.boolean()]).transform(String),
    /** An absent key (or absent file) counts as compliant: "vpn-skip removed or false" (Scenario A). */
    acceptAbsent: z.boolean().default(false),
  })
  .strict();

export type PropertiesKeyArgs = z.input<typeof propertiesKeySchema>;
type Desired = z.output<typeof propertiesKeySchema>;

/** Plans the edit from the file fact (pure). */
export const planPropertiesKey = (desired: Desired, file: FileState): StepPlan => {
  const { file: path, key, value } = desired;
  if (!file.exists) {
    if (desired.acceptAbsent) return noChange(`${path} does not exist, so ${key} is absent (accepted)`);
    throw new StepPlanError(`${path} does not exist; casfleet does not create it (CAS writes it with its defaults on the first start) [I]`);
  }
  if (file.type !== 'file') throw new StepPlanError(`${path} is ${FILE_TYPE_NAMES[file.type]}, not a regular file; refusing to edit it`);
  if (file.content === null) throw new StepPlanError(`${path} is too large (${file.size} bytes) to edit as a .properties file`);
  const edit = setProperty(file.content, key, value);
  const warnings =
    edit.occurrences > 1
      ? [
          `${key} appears ${edit.occurrences} times in ${path}; the last one (line ${(edit.current?.first ?? 0) + 1}) is the one Java uses and the one set`,
        ]
      : [];
  const extra = warnings.length > 0 ? { warnings } : {};
  if (edit.content === undefined) return noChange(`${key}=${value} already set in ${path} (line ${(edit.current?.first ?? 0) + 1})`, extra);
  if (edit.current === undefined && desired.acceptAbsent) return noChange(`${key} is absent from ${path} (accepted)`, extra);
  const where = edit.current ? `line ${edit.current.first + 1}` : 'appended';
  const before = edit.current ? `${where}: ${key}=${edit.current.value}` : `(no ${key} in ${path})`;
  return {
    changes: [
      {
        summary: `${edit.current ? '~' : '+'} ${path}: ${key}=${value}${edit.current ? ` (was ${edit.current.value})` : ''}`,
        ...atomicWrite(path, file, sha256Latin1(file.content), edit.content),
      },
    ],
    diff: { before, after: `${where}: ${edit.line}` },
    ...extra,
  };
};

/** Sets `key=value` in a .properties file, atomically, with a backup (see module comment). */
export const propertiesKey = (args: PropertiesKeyArgs): Step => {
  const desired = parseArgs(propertiesKeySchema, args, 'propertiesKey');
  return defineStep({
    name: `${desired.file} ${desired.key}=${desired.value}`,
    facts: { file: fileFact(desired.file) },
    plan: ({ file }) => planPropertiesKey(desired, file),
    touches: { files: [desired.file] },
  });
};
