// How a user-supplied value is named in messages ("got 'abc'", "got a list"): short, and in the
// words of the file the user wrote rather than JavaScript's.

export const describeValue = (value: unknown): string => {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
};

/** A zod error option whose message reads `must be <what> (got <value>)`. */
export const mustBe = (what: string) => ({
  error: (issue: { readonly input?: unknown }) => `must be ${what} (got ${describeValue(issue.input)})`,
});
