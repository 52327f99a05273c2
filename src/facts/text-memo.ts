// A parser's results kept by the text they came from. A fleet's hosts print the same iptables and
// ufw lines, and each host's are read several times in one run (the gather, the re-read after a
// change, the confirmation), so most lines a run parses it has parsed before. The parsers are pure
// and their results are read-only, so one result serves every host. The memo forgets everything
// once it holds `limit` texts: a fleet of hosts that all differ costs the same as before, never
// unbounded memory. A parse that throws is not kept (it throws again).

/**
 * `parse`, remembering its result for each distinct key. Arguments after the key must not change
 * the result (what the parser reads when it has to, a name for its error messages): the first
 * call's result is returned for every later call with the same key.
 */
export const memoByText = <T, A extends unknown[] = []>(
  parse: (key: string, ...rest: A) => T,
  limit = 4096,
): ((key: string, ...rest: A) => T) => {
  const results = new Map<string, T>();
  return (key, ...rest) => {
    if (results.has(key)) return results.get(key) as T;
    const result = parse(key, ...rest);
    if (results.size >= limit) results.clear();
    results.set(key, result);
    return result;
  };
};
