import test from 'ava';
import { type Cidr, cidrProblem, formatNetwork, iptablesCidr, networkContains, parseCidr, parseNetwork } from '../../src/steps/cidr.ts';

// `form` turns an input into the text a tool stores for it: parseCidr is what ufw 0.36.2 wrote to
// user.rules / user6.rules, iptablesCidr what iptables-save 1.8.9 (nf_tables and legacy) printed.
const storedAs = test.macro((t, form: (text: string) => Cidr | undefined, input: string, expected: string | undefined) => {
  t.deepEqual(form(input)?.text, expected);
});
const normalises = test.macro((t, input: string, expected: string | undefined) => storedAs.exec(t, parseCidr, input, expected));
const iptablesForm = test.macro((t, input: string, expected: string | undefined) => storedAs.exec(t, iptablesCidr, input, expected));

test('an IPv4 network keeps its prefix', normalises, '10.8.0.0/24', '10.8.0.0/24');
test('IPv4 host bits are cleared like ufw does', normalises, '10.8.0.5/24', '10.8.0.0/24');
test('an IPv4 /32 is stored as the bare address', normalises, '10.8.0.7/32', '10.8.0.7');
test('a bare IPv4 address stays bare', normalises, '192.0.2.7', '192.0.2.7');
test('IPv4 /0 is anywhere', normalises, '0.0.0.0/0', '0.0.0.0/0');
test('IPv6 is lower-cased and compressed like inet_ntop', normalises, '2001:0DB8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1');
test('a single zero group is not compressed', normalises, '1:2:3:4:5:6:0:8', '1:2:3:4:5:6:0:8');
test('the first of two equal zero runs is compressed', normalises, '1:0:0:2:0:0:3:4', '1::2:0:0:3:4');
test('IPv6 host bits are kept (ufw does not mask v6)', normalises, 'fd00::1/64', 'fd00::1/64');
test('an IPv6 /128 is stored as the bare address', normalises, 'fd00::abcd/128', 'fd00::abcd');
test('IPv6 anywhere', normalises, '::/0', '::/0');
test('a prefix above 32 is refused for IPv4', normalises, '10.0.0.0/33', undefined);
test('octets above 255 are refused', normalises, '10.0.0.256', undefined);
test('leading zeros are refused (ambiguous octal)', normalises, '010.0.0.1', undefined);
test('a hostname is refused', normalises, 'example.com', undefined);
test('too many IPv6 groups are refused', normalises, '1:2:3:4:5:6:7:8:9', undefined);
test('two "::" are refused', normalises, '1::2::3', undefined);

test('the family is reported', (t) => {
  t.is(parseCidr('10.0.0.0/8')?.family, 'v4');
  t.is(parseCidr('fd00::/8')?.family, 'v6');
});

test('iptables writes a bare IPv4 address as /32', iptablesForm, '10.8.0.1', '10.8.0.1/32');
test('iptables clears IPv4 host bits', iptablesForm, '10.8.0.5/24', '10.8.0.0/24');
test('iptables clears IPv6 host bits too (ufw does not)', iptablesForm, '2001:DB8:0:0::5/64', '2001:db8::/64');
test('iptables writes a bare IPv6 address as /128', iptablesForm, '2001:db8::7', '2001:db8::7/128');
test('iptables: a prefix inside a group', iptablesForm, 'fd00:abcd::/20', 'fd00:a000::/20');
test('iptables: anywhere', iptablesForm, '0.0.0.0/0', '0.0.0.0/0');
test('iptables: invalid stays invalid', iptablesForm, '10.0.0.0/33', undefined);

test('host bits are named with the network and the host probably meant', (t) => {
  t.is(cidrProblem('10.8.0.5/24'), '10.8.0.5/24 has host bits set after /24: did you mean the network 10.8.0.0/24, or the host 10.8.0.5?');
  t.is(cidrProblem('1::/0'), '1::/0 has host bits set after /0: did you mean the host 1::? (::/0 would be every IPv6 address)');
  t.is(cidrProblem('fd00::1/64'), 'fd00::1/64 has host bits set after /64: did you mean the network fd00::/64, or the host fd00::1?');
  t.is(cidrProblem('10.8.0.0/24'), undefined);
  t.is(cidrProblem('2001:db8::/32'), undefined);
  t.is(cidrProblem('192.0.2.7'), undefined);
  t.regex(cidrProblem('10.0.0.0/33') ?? '', /expected an IPv4\/IPv6 address or CIDR/);
});

test('containment, per family; IPv4-mapped IPv6 addresses are IPv4', (t) => {
  const net = (text: string) => parseNetwork(text)!;
  t.true(networkContains(net('10.99.0.0/16'), net('10.99.0.1')));
  t.false(networkContains(net('192.0.2.0/24'), net('10.99.0.1')));
  t.true(networkContains(net('0.0.0.0/0'), net('::ffff:10.99.0.1')));
  t.false(networkContains(net('::/0'), net('::ffff:10.99.0.1')));
  t.true(networkContains(net('2001:db8::/32'), net('2001:db8:1::7')));
  t.false(networkContains(net('10.99.1.0/24'), net('10.99.0.0/16')));
  t.is(formatNetwork(net('::ffff:10.99.0.1')), '10.99.0.1');
});
