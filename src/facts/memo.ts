// Results kept by what they were computed from.
//
// By text: a parser's results kept by the text they came from. A fleet's hosts print the same
// iptables and ufw lines, and each host's are read several times in one run (the gather, the re-read
// after a change, the confirmation), so most lines a run parses it has parsed before. The parsers
// are pure and their results are read-only, so one result serves every host. The memo forgets
// everything once it holds `limit` texts: a fleet of hosts that all differ costs the same as before,
// never unbounded memory. A parse that throws is not kept (it throws again).
//
// By identity: what is derived from a read-only object (a parsed rule, a dump) kept with that object,
// for as long as it lives (a WeakMap), so a value shared across the fleet is derived once.

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

/** `derive`, remembering its result for each object while the object lives. */
export const memoByIdentity = <K extends object, T>(derive: (key: K) => T): ((key: K) => T) => {
  const results = new WeakMap<K, T>();
  return (key) => {
    if (results.has(key)) return results.get(key) as T;
    const result = derive(key);
    results.set(key, result);
    return result;
  };
};

/** The value `map` holds for `key`, made by `make` and kept there on first use. */
export const cachedIn = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  if (map.has(key)) return map.get(key) as V;
  const value = make();
  map.set(key, value);
  return value;
};
