// ufw's first-match verdict per port, as the audit uses it for sources it cannot probe from.
import test from 'ava';
import { ufwVerdict } from '../../src/audit/ufw-verdict.ts';
import type { UfwState } from '../../src/facts/ufw.ts';
import { parseUfwTuple } from '../../src/facts/ufw-tuple.ts';

const state = (lines: string[], extra: Partial<UfwState> = {}): UfwState => ({
  installed: true,
  enabled: true,
  ipv6: false,
  defaultIncoming: 'deny',
  manageBuiltins: false,
  vpngenRules: false,
  rules: { v4: lines.map((line) => parseUfwTuple(`### tuple ### ${line}`)), v6: [] },
  fileRules: { v4: [], v6: [] },
  fileFormat: null,
  ...extra,
});

test('the first rule matching anyone decides; named sources before it are listed', (t) => {
  const ufw = state([
    'allow tcp 7741 0.0.0.0/0 any 10.8.0.0/24 in',
    'deny tcp 7741 0.0.0.0/0 any 0.0.0.0/0 in',
    'allow tcp 7741 0.0.0.0/0 any 0.0.0.0/0 in',
  ]);
  t.deepEqual(ufwVerdict(ufw, 'eth0', 7741), { anyone: 'block', from: ['10.8.0.0/24'] });
});

test('ranges, any proto and limit count; other ports and udp do not', (t) => {
  const ufw = state(['allow udp 12000 0.0.0.0/0 any 0.0.0.0/0 in', 'limit any 12000:12050 0.0.0.0/0 any 0.0.0.0/0 in']);
  t.deepEqual(ufwVerdict(ufw, 'eth0', 12049), { anyone: 'allow', from: [] });
  t.deepEqual(ufwVerdict(ufw, 'eth0', 7777), { anyone: 'block', from: [] });
});

test('a rule bound to another interface does not apply to the public one', (t) => {
  const ufw = state(['allow tcp 7742 0.0.0.0/0 any 0.0.0.0/0 in_tun0']);
  t.deepEqual(ufwVerdict(ufw, 'eth0', 7742), { anyone: 'block', from: [] });
  t.deepEqual(ufwVerdict(ufw, 'tun0', 7742), { anyone: 'allow', from: [] });
});

test('a rule for one destination applies to that address only (the VPN side)', (t) => {
  const ufw = state(['allow tcp 7741 10.3.2.1 any 0.0.0.0/0 in']);
  t.deepEqual(ufwVerdict(ufw, 'eth0', 7741, '10.3.2.1'), { anyone: 'allow', from: [] });
  t.deepEqual(ufwVerdict(ufw, 'eth0', 7741), { anyone: 'block', from: [] });
});

test('the default policy decides when no rule matches; a disabled or unloaded ufw allows everything', (t) => {
  t.deepEqual(ufwVerdict(state([], { defaultIncoming: 'allow' }), 'eth0', 7777), { anyone: 'allow', from: [] });
  t.deepEqual(ufwVerdict(state([], { defaultIncoming: 'reject' }), 'eth0', 7777), { anyone: 'block', from: [] });
  t.deepEqual(ufwVerdict(state(['deny tcp 7777 0.0.0.0/0 any 0.0.0.0/0 in'], { enabled: false }), 'eth0', 7777), {
    anyone: 'allow',
    from: [],
  });
  t.deepEqual(ufwVerdict(state(['deny tcp 7777 0.0.0.0/0 any 0.0.0.0/0 in']), 'eth0', 7777, undefined, false), {
    anyone: 'allow',
    from: [],
  });
});
