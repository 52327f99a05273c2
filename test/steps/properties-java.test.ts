// .properties edge cases held to java.util.Properties itself (test/fixtures/properties/README.md):
// casfleet must read every fixture as Java does, write exactly the bytes on record, and its edit,
// read back by Java, must differ from the original in the one key it set and nowhere else.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parseProperties, setProperty } from '../../src/steps/properties-edit.ts';

const DIR = fileURLToPath(new URL('../fixtures/properties/', import.meta.url));

interface PropertiesCase {
  readonly name: string;
  readonly description: string;
  readonly before: string;
  readonly key: string;
  readonly value: string;
}

const cases = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as PropertiesCase[];
const java = (JSON.parse(readFileSync(join(DIR, 'expected-java.json'), 'utf8')) as { files: Record<string, Record<string, string>> }).files;
const bytes = (file: string): string => readFileSync(join(DIR, file)).toString('latin1');

/** What casfleet reads, as Java would hold it: the last occurrence of a key wins. */
const asJava = (content: string): Record<string, string> =>
  Object.fromEntries(parseProperties(content).entries.map(({ key, value }) => [key, value]));

const sorted = (map: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

for (const { name, description, before, key, value } of cases) {
  test(`${name}: ${description}`, (t) => {
    t.is(bytes(`${name}.before.properties`), before, 'fixture file matches cases.json');
    t.deepEqual(sorted(asJava(before)), java[`${name}.before.properties`], 'casfleet reads the original as Java does');
    const after = setProperty(before, key, value).content;
    t.is(after, bytes(`${name}.after.properties`), 'the edit writes the recorded bytes');
    t.deepEqual(
      java[`${name}.after.properties`],
      sorted({ ...java[`${name}.before.properties`], [key]: value }),
      'Java reads the edit as the original with only the key set',
    );
    t.deepEqual(sorted(asJava(after ?? '')), java[`${name}.after.properties`], 'casfleet reads its edit as Java does');
  });
}

const hasJava = spawnSync('java', ['-version']).status === 0;

(hasJava ? test : test.skip)("the recorded Java readings are what this machine's Java reads from the fixture files", (t) => {
  const files = cases.flatMap(({ name }) => [`${name}.before.properties`, `${name}.after.properties`]);
  const result = spawnSync('java', ['ReadProperties.java', ...files], { cwd: DIR, encoding: 'utf8' });
  t.is(result.status, 0, result.stderr);
  const live = Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const { file, properties } = JSON.parse(line) as { file: string; properties: Record<string, string> };
        return [file, properties];
      }),
  );
  t.deepEqual(live, java);
});
