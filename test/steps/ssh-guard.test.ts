// The lock-out guard on its own: ufw's evaluation order for a new connection like the current one.
// (The planner's use of it, with the messages, is covered by the ufw.ruleSet step fixtures.)
import test from 'ava';
import type { SshConnection } from '../../src/facts/ssh-connection.ts';
import type { UfwRule } from '../../src/facts/ufw-tuple.ts';
import { checkSshAccess, type SshGuardInput } from '../../src/steps/ssh-guard.ts';

const rule = (fields: Partial<UfwRule>, family: 'v4' | 'v6' = 'v4'): UfwRule => ({
  action: 'allow', log: '', proto: 'tcp', dport: '22', dst: family === 'v4' ? '0.0.0.0/0' : '::/0', sport: 'any', src: family === 'v4' ? '0.0.0.0/0' : '::/0',
  direction: 'in', interfaceIn: '', interfaceOut: '', route: false, dapp: '', sapp: '', comment: '', ...fields,
});
const V4: SshConnection = { family: 'v4', clientAddress: '10.99.0.1', clientPort: 40000, serverAddress: '10.99.1.1', serverPort: 22, interface: 'eth0' };
const input = (v4: UfwRule[], extra: Partial<SshGuardInput> = {}): SshGuardInput => ({
  connection: V4, rules: { v4, v6: [] }, ipv6: true, defaultIncoming: 'deny', ...extra,
});
const allowed = (value: SshGuardInput) => checkSshAccess(value).allowed;

test('first match wins: an allow before a deny of the same traffic lets it in, after it does not', (t) => {
  const deny = rule({ action: 'deny', src: '10.99.0.0/16' });
  t.true(allowed(input([rule({}), deny])));
  t.deepEqual(checkSshAccess(input([deny, rule({})])), { allowed: false, blockedBy: deny });
});

test('rules for other ports, other sources, other protocols or outgoing traffic do not match', (t) => {
  t.false(allowed(input([rule({ dport: '2222' })])));
  t.false(allowed(input([rule({ src: '192.0.2.0/24' })])));
  t.false(allowed(input([rule({ proto: 'udp' })])));
  t.false(allowed(input([rule({ direction: 'out' })])));
  t.false(allowed(input([rule({ route: true })])));
  t.false(allowed(input([rule({ dst: '10.99.1.2' })])), 'to another server address');
  t.true(allowed(input([rule({ dport: '20:25', proto: 'any', dst: '10.99.1.1' })])));
  t.true(allowed(input([rule({ dport: '80,22' })])));
});

test('limit counts as allow; reject as deny', (t) => {
  t.true(allowed(input([rule({ action: 'limit' })])));
  t.false(allowed(input([rule({ action: 'reject' }), rule({})])));
});

test('uncertain matches are judged against the operator: source ports and unknown interfaces', (t) => {
  t.false(allowed(input([rule({ sport: '40000' })])), 'the next login has another source port');
  t.false(allowed(input([rule({ action: 'deny', sport: '1:1024' }), rule({})])), 'a deny that may match blocks');
  t.false(allowed(input([rule({ interfaceIn: 'eth0' })], { connection: { ...V4, interface: undefined } as SshConnection })));
  t.true(allowed(input([rule({ action: 'deny', interfaceIn: 'eth1' }), rule({ interfaceIn: 'eth0' })])), 'a deny on another interface does not');
});

test('no matching rule: the default incoming policy decides', (t) => {
  t.true(allowed(input([], { defaultIncoming: 'allow' })));
  t.false(allowed(input([], { defaultIncoming: 'reject' })));
});

test('loopback is accepted before any user rule (ufw-before-input)', (t) => {
  t.true(allowed(input([rule({ action: 'deny', proto: 'any', dport: 'any' })], { connection: { ...V4, clientAddress: '127.0.0.1', interface: 'lo' } })));
});

test('IPv6 sessions use the v6 list, and are dropped with IPV6=no', (t) => {
  const v6: SshConnection = { family: 'v6', clientAddress: '2001:db8::7', clientPort: 40000, serverAddress: '2001:db8::1', serverPort: 22, interface: 'eth0' };
  const rules = { v4: [rule({})], v6: [rule({ src: '2001:db8::/32' }, 'v6')] };
  t.true(checkSshAccess({ connection: v6, rules, ipv6: true, defaultIncoming: 'deny' }).allowed);
  t.false(checkSshAccess({ connection: v6, rules: { ...rules, v6: [] }, ipv6: true, defaultIncoming: 'deny' }).allowed, 'v4 rules do not cover it');
  t.like(checkSshAccess({ connection: v6, rules, ipv6: false, defaultIncoming: 'allow' }), { allowed: false, reason: 'ufw has IPv6 off (IPV6=no in /etc/default/ufw), so it drops every IPv6 connection' });
});
