// The lock-out guard on its own: ufw's evaluation order, and the iptables backend's managed chain, for
// a new connection like the current one. (The planners' use of it, with the messages, is covered by
// the ufw.ruleSet and iptables.ruleSet step fixtures.)
import test from 'ava';
import type { SshConnection } from '../../src/facts/ssh-connection.ts';
import type { UfwRule } from '../../src/facts/ufw-tuple.ts';
import type { ResolvedRule } from '../../src/steps/iptables-chain.ts';
import { checkChainSshAccess, checkSshAccess, type SshGuardInput } from '../../src/steps/ssh-guard.ts';

const rule = (fields: Partial<UfwRule>, family: 'v4' | 'v6' = 'v4'): UfwRule => ({
  action: 'allow',
  log: '',
  proto: 'tcp',
  dport: '22',
  dst: family === 'v4' ? '0.0.0.0/0' : '::/0',
  sport: 'any',
  src: family === 'v4' ? '0.0.0.0/0' : '::/0',
  direction: 'in',
  interfaceIn: '',
  interfaceOut: '',
  route: false,
  dapp: '',
  sapp: '',
  comment: '',
  ...fields,
});
const V4: SshConnection = {
  family: 'v4',
  clientAddress: '10.99.0.1',
  clientPort: 40000,
  serverAddress: '10.99.1.1',
  serverPort: 22,
  interface: 'eth0',
};
const input = (v4: UfwRule[], extra: Partial<SshGuardInput> = {}): SshGuardInput => ({
  connection: V4,
  rules: { v4, v6: [] },
  ipv6: true,
  defaultIncoming: 'deny',
  ...extra,
});
const allowed = (value: SshGuardInput) => checkSshAccess(value).allowed;

test('first match wins: an allow before a deny of the same traffic lets it in, after it does not', (t) => {
  const deny = rule({ action: 'deny', src: '10.99.0.0/16' });
  t.true(allowed(input([rule({}), deny])));
  t.like(checkSshAccess(input([deny, rule({})])), {
    allowed: false,
    blockedBy: { allow: false, source: '10.99.0.0/16', text: 'deny 22/tcp from 10.99.0.0/16', managed: false },
  });
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
  t.true(
    allowed(input([rule({ action: 'deny', interfaceIn: 'eth1' }), rule({ interfaceIn: 'eth0' })])),
    'a deny on another interface does not',
  );
});

test('no matching rule: the default incoming policy decides', (t) => {
  t.true(allowed(input([], { defaultIncoming: 'allow' })));
  t.false(allowed(input([], { defaultIncoming: 'reject' })));
});

test('loopback is accepted before any user rule (ufw-before-input)', (t) => {
  t.true(
    allowed(
      input([rule({ action: 'deny', proto: 'any', dport: 'any' })], { connection: { ...V4, clientAddress: '127.0.0.1', interface: 'lo' } }),
    ),
  );
});

test('IPv6 sessions use the v6 list, and are dropped with IPV6=no', (t) => {
  const v6: SshConnection = {
    family: 'v6',
    clientAddress: '2001:db8::7',
    clientPort: 40000,
    serverAddress: '2001:db8::1',
    serverPort: 22,
    interface: 'eth0',
  };
  const rules = { v4: [rule({})], v6: [rule({ src: '2001:db8::/32' }, 'v6')] };
  t.true(checkSshAccess({ connection: v6, rules, ipv6: true, defaultIncoming: 'deny' }).allowed);
  t.false(
    checkSshAccess({ connection: v6, rules: { ...rules, v6: [] }, ipv6: true, defaultIncoming: 'deny' }).allowed,
    'v4 rules do not cover it',
  );
  t.like(checkSshAccess({ connection: v6, rules, ipv6: false, defaultIncoming: 'allow' }), {
    allowed: false,
    reason: 'ufw has IPv6 off (IPV6=no in /etc/default/ufw), so it drops every IPv6 connection',
  });
});

const managed = (fields: Partial<ResolvedRule>): ResolvedRule => ({
  action: 'allow',
  port: 22,
  proto: 'tcp',
  comment: 'casfleet: SSH',
  ...fields,
});
const chain = (rules: ResolvedRule[], connection: SshConnection = V4, interfaces: string[] = []) =>
  checkChainSshAccess({ connection, rules, interfaces, publicInterface: 'eth0' });

test('iptables chain: first match over the managed rules; what none takes meets the final drop on the public interface', (t) => {
  t.true(chain([managed({})]).allowed);
  t.true(chain([managed({ port: [20, 30] })]).allowed);
  t.like(chain([managed({ action: 'deny' }), managed({})]), { allowed: false, blockedBy: { text: 'deny 22/tcp (casfleet: SSH)' } });
  t.deepEqual(chain([managed({ from: '192.0.2.0/24' })]), { allowed: false }, 'the final drop, like a deny policy');
  t.true(chain([managed({ from: '10.99.0.0/16' })]).allowed);
  t.false(chain([managed({ proto: 'udp' })]).allowed);
  t.true(chain([managed({ proto: undefined })]).allowed, 'no proto is tcp and udp');
});

test('iptables chain: a rule of the other family does not count, and an interface is matched on the resolved name', (t) => {
  t.false(chain([managed({ from: '2001:db8::/32' })]).allowed);
  t.true(chain([managed({ interface: 'default-route' })], V4, ['eth0']).allowed);
  t.false(chain([managed({ interface: 'default-route' })], V4, ['eth1']).allowed);
});

test('iptables chain: on another interface, no managed rule taking it is not counted as allowed (INPUT goes on)', (t) => {
  const tunnel: SshConnection = { ...V4, clientAddress: '10.3.9.5', interface: 'batm0' };
  t.true(chain([managed({})], tunnel).allowed);
  const verdict = chain([managed({ interface: 'eth0' })], tunnel, ['eth0']);
  t.false(verdict.allowed);
  t.regex(verdict.allowed ? '' : (verdict.reason ?? ''), /arrives on batm0, where no managed rule accepts it/);
  t.true(
    chain([managed({ action: 'deny', proto: undefined, port: [1, 65535] })], { ...V4, clientAddress: '127.0.0.1', interface: 'lo' })
      .allowed,
    'loopback',
  );
});
