import test from 'ava';
import { parsePauseSetting } from '../../src/run/test-pause.ts';

test('the pause setting names known phases and a marker file; anything else leaves casfleet alone', (t) => {
  t.deepEqual(parsePauseSetting('before-confirm:/tmp/marker'), { phases: ['before-confirm'], marker: '/tmp/marker' });
  t.deepEqual(parsePauseSetting('after-facts:/tmp/a:b'), { phases: ['after-facts'], marker: '/tmp/a:b' });
  t.deepEqual(parsePauseSetting('after-change,before-confirm:/m'), { phases: ['after-change', 'before-confirm'], marker: '/m' });
  for (const phase of ['change-sent', 'after-change', 'between-changes', 'after-firewall-load'])
    t.like(parsePauseSetting(`${phase}:/m`), { phases: [phase] });
  t.is(parsePauseSetting(undefined), undefined);
  t.is(parsePauseSetting(''), undefined);
  t.is(parsePauseSetting('before-confirm'), undefined);
  t.is(parsePauseSetting('before-confirm:'), undefined);
  t.is(parsePauseSetting('whenever:/tmp/marker'), undefined);
  t.is(parsePauseSetting('after-change,whenever:/tmp/marker'), undefined);
  t.is(parsePauseSetting('after-change,:/tmp/marker'), undefined);
});
