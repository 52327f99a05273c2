// A large inventory is parsed a slice at a time (parseYamlYielding) so that start-up never holds
// the event loop for the whole file: it must read exactly what the one-shot parse reads, errors,
// their positions and multi-document files included.
import test from 'ava';
import { type ParsedYaml, parseYaml, parseYamlYielding } from '../../src/inventory/yaml-source.ts';

const hosts = (count: number): string[] =>
  Array.from(
    { length: count },
    (_, index) => `    cas-${String(index + 1).padStart(4, '0')}: { ansible_host: 10.1.${index >> 8}.${index & 255} }`,
  );

const big = (tail: readonly string[] = []): string =>
  ['all:', '  vars:', '    ansible_user: root', '  hosts:', ...hosts(1000), ...tail, ''].join('\n');

const comparable = ({ source, issues, warnings }: ParsedYaml) => ({
  value: source.doc.toJS(),
  issues,
  warnings,
  lastLine: source.lineCounter.linePos(source.doc.range?.[1] ?? 0),
});

const same = test.macro(async (t, text: string) => {
  t.true(text.length > 40_000, 'several slices');
  const sliced = await parseYamlYielding(text, 'inventory.yml');
  t.deepEqual(comparable(sliced), comparable(parseYaml(text, 'inventory.yml')));
  return sliced;
});

test('a 1000-host inventory reads the same sliced as in one go', same, big());
test('an error in the last line is reported at the same place', same, big(['    cas-0001: {}']));
test('a broken flow mapping is reported at the same place', same, big(['    cas-2000: { ansible_host: 10.9.9.9']));
test('a second document is refused the same way', same, big(['---', 'other: 1']));

test('the duplicate key is an issue with its position', async (t) => {
  const parsed = await parseYamlYielding(big(['    cas-0001: {}']), 'inventory.yml');
  t.like(parsed.issues[0], { position: { file: 'inventory.yml', line: 1005, col: 5 } });
});
