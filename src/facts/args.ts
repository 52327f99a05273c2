// Argument validation shared by fact factories and steps: zod at the boundary, reported as a
// PlaybookError naming the field, the value received and what was expected.
import { z } from 'zod';
import { PlaybookError, type SourceIssue } from '../errors.ts';

/** An absolute, normalised path: no `.`/`..` segments, no `//`, no trailing slash, no control characters. */
export const absolutePathSchema = z
  .string()
  .regex(/^\/[^\0\n\r]*$/, 'must be an absolute path')
  .refine((path) => path === '/' || !path.endsWith('/'), 'must not end with "/"')
  .refine(
    (path) =>
      !path
        .split('/')
        .slice(1)
        .some((part) => part === '' || part === '.' || part === '..'),
    {
      message: 'must be normalised (no "//", "." or ".." segments)',
    },
  )
  .refine((path) => path !== '/', 'must name a file, not "/"');

const describe = (value: unknown): string => {
  if (value === undefined) return 'undefined';
  const json = JSON.stringify(value);
  return `${json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json} (${typeof value})`;
};

const valueAt = (root: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );

/** Parses `value` with `schema`; throws PlaybookError listing every issue (`where.field: message, got …`). */
export const parseArgs = <S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: SourceIssue[] = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: `${issue.message}, got ${describe(valueAt(value, issue.path))}`,
  }));
  throw new PlaybookError(`invalid arguments for ${where}`, issues);
};
