import test from 'ava';
import { heaviestOrderedSubsequence, UNMOVABLE_WEIGHT } from '../../src/steps/ufw-order.ts';

test('keeps the longest run already in the desired order', (t) => {
  const items = [0, 3, 1, 2].map((order) => ({ order, weight: 2 }));
  t.deepEqual(heaviestOrderedSubsequence(items), [0, 2, 3]);
});

test('an unmovable (unmanaged) rule is always kept, even if more managed rules must move', (t) => {
  const items = [
    { order: 3, weight: UNMOVABLE_WEIGHT },
    { order: 0, weight: 2 },
    { order: 1, weight: 2 },
    { order: 2, weight: 2 },
  ];
  t.deepEqual(heaviestOrderedSubsequence(items), [0]);
});

test('an exact rule is preferred over one that needs a replace', (t) => {
  t.deepEqual(
    heaviestOrderedSubsequence([
      { order: 1, weight: 1 },
      { order: 0, weight: 2 },
    ]),
    [1],
  );
});

test('empty input', (t) => {
  t.deepEqual(heaviestOrderedSubsequence([]), []);
});
