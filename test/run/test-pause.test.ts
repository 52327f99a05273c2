import test from 'ava';
import { parsePauseSetting } from '../../src/run/test-pause.ts';

test('the pause setting names a known phase and a marker file; anything else leaves casfleet alone', (t) => {
  t.deepEqual(parsePauseSetting('before-confirm:/tmp/marker'), { phase: 'before-confirm', marker: '/tmp/marker' });
  t.deepEqual(parsePauseSetting('after-facts:/tmp/a:b'), { phase: 'after-facts', marker: '/tmp/a:b' });
  for (const phase of ['change-sent', 'after-change', 'between-changes', 'after-firewall-load'])
    t.like(parsePauseSetting(`${phase}:/m`), { phase });
  t.is(parsePauseSetting(undefined), undefined);
  t.is(parsePauseSetting(''), undefined);
  t.is(parsePauseSetting('before-confirm'), undefined);
  t.is(parsePauseSetting('before-confirm:'), undefined);
  t.is(parsePauseSetting('whenever:/tmp/marker'), undefined);
});
