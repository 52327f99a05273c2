import test from 'ava';
import { escapeKey, escapeValue, parseProperties, setProperty } from '../../src/steps/properties-edit.ts';

const entries = (content: string) => parseProperties(content).entries.map(({ key, value }) => [key, value]);

test('separators: "=", ":", blanks, and blanks around them', (t) => {
  t.deepEqual(entries('a=1\nb:2\nc 3\nd = 4\n  e\t:\t5\nf\n'), [
    ['a', '1'],
    ['b', '2'],
    ['c', '3'],
    ['d', '4'],
    ['e', '5'],
    ['f', ''],
  ]);
});

test('comments and blank lines are not entries; a backslash does not continue a comment', (t) => {
  t.deepEqual(entries('# a=1 \\\nb=2\n! c=3\n   \n'), [['b', '2']]);
});

test('escaped separators belong to the key; \\uXXXX and \\t are decoded', (t) => {
  t.deepEqual(entries('a\\=b\\:c=x\\ty\\u00e9\n'), [['a=b:c', 'x\ty\u00e9']]);
});

test('continuation lines join with their leading blanks removed; an even backslash run does not continue', (t) => {
  t.deepEqual(entries('a=one \\\n    two\nb=c:\\\\\nd=4'), [
    ['a', 'one two'],
    ['b', 'c:\\'],
    ['d', '4'],
  ]);
});

test('CR-only line ends are line ends too (java.util.Properties)', (t) => {
  t.deepEqual(entries('a=1\rb=2\r'), [
    ['a', '1'],
    ['b', '2'],
  ]);
});

test('escaped values and keys read back as written', (t) => {
  for (const [key, value] of [
    ['k', ' leading blank'],
    ['with space=and:colon', 'C:\\path\\n'],
    ['#notcomment', 'caf\u00e9 \u20ac\ttab'],
  ] as const) {
    const edit = setProperty('', key, value);
    t.deepEqual(entries(edit.content ?? ''), [[key, value]], `${escapeKey(key)}=${escapeValue(value)}`);
  }
});

test('setting an existing key rewrites only the value of its last occurrence', (t) => {
  const edit = setProperty('x = 1\r\n# c\r\nx : 2\r\ny=3', 'x', '9');
  t.is(edit.content, 'x = 1\r\n# c\r\nx : 9\r\ny=3');
  t.is(edit.occurrences, 2);
  t.is(edit.current?.first, 2);
});

test('an unchanged value yields no new content', (t) => {
  t.is(setProperty('a=1\n', 'a', '1').content, undefined);
});

test('appending to an empty file', (t) => {
  t.is(setProperty('', 'a', 'b').content, 'a=b\n');
});
