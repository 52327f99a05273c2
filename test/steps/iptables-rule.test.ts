import test from 'ava';
import {
  destinationPorts,
  dnatDestination,
  matchesTcp,
  onlyExistingConnections,
  parseSavedRule,
  ruleSignature,
  splitWords,
} from '../../src/steps/iptables-rule.ts';
import { formatPorts } from '../../src/steps/port-ranges.ts';

const rule = (text: string, family: 'v4' | 'v6' = 'v4') => {
  const parsed = parseSavedRule(family, 'filter', text.split(' ')[1] ?? '', text);
  if (!parsed) throw new Error(`cannot parse ${text}`);
  return parsed;
};

test('words: iptables-save double quotes with backslash escapes, shell single quotes', (t) => {
  t.deepEqual(splitWords(`-A x -m comment --comment "\\'dapp_OpenSSH\\'" -j LOG --log-prefix "[UFW BLOCK] "`), [
    '-A',
    'x',
    '-m',
    'comment',
    '--comment',
    "'dapp_OpenSSH'",
    '-j',
    'LOG',
    '--log-prefix',
    '[UFW BLOCK] ',
  ]);
  t.deepEqual(splitWords(`iptables -I INPUT -m comment --comment 'a b' -j ACCEPT`), [
    'iptables',
    '-I',
    'INPUT',
    '-m',
    'comment',
    '--comment',
    'a b',
    '-j',
    'ACCEPT',
  ]);
  t.is(splitWords('-A x --comment "open'), undefined);
});

// Pairs verified on a lab host: the line ufw writes to user.rules, and what iptables-save prints for it.
const sameRule = test.macro((t, file: string, saved: string) => {
  t.is(ruleSignature(rule(file)), ruleSignature(rule(saved)));
});
test('plain allow', sameRule, '-A ufw-user-input -p tcp --dport 22 -j ACCEPT', '-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT');
test(
  'source and multiport, reordered',
  sameRule,
  '-A ufw-user-input -p tcp -m multiport --dports 80,443 -s 10.1.0.0/16 -j ACCEPT',
  '-A ufw-user-input -s 10.1.0.0/16 -p tcp -m multiport --dports 80,443 -j ACCEPT',
);
test(
  'limit: recent defaults added by save',
  sameRule,
  '-A ufw-user-input -p tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit',
  '-A ufw-user-input -p tcp -m tcp --dport 2222 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource -j ufw-user-limit',
);
test(
  'reject: default reject-with added by save',
  sameRule,
  '-A ufw-user-limit -j REJECT',
  '-A ufw-user-limit -j REJECT --reject-with icmp-port-unreachable',
);
test(
  'log: rate unit respelled',
  sameRule,
  '-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix "[UFW LIMIT BLOCK] "',
  '-A ufw-user-limit -m limit --limit 3/min -j LOG --log-prefix "[UFW LIMIT BLOCK] "',
);
test(
  'a host address gains its /32',
  sameRule,
  '-A ufw-user-input -p tcp --dport 7777 -s 192.0.2.7 -j ACCEPT',
  '-A ufw-user-input -s 192.0.2.7/32 -p tcp -m tcp --dport 7777 -j ACCEPT',
);

test('different rules have different signatures', (t) => {
  t.not(ruleSignature(rule('-A x -p tcp --dport 22 -j ACCEPT')), ruleSignature(rule('-A x -p tcp --dport 22 -j DROP')));
  t.not(ruleSignature(rule('-A x -p tcp --dport 22 -j ACCEPT')), ruleSignature(rule('-A x -p tcp --dport 2222 -j ACCEPT')));
  t.not(ruleSignature(rule('-A x -i eth0 -j ACCEPT')), ruleSignature(rule('-A x ! -i eth0 -j ACCEPT')));
});

test('destination ports: single, multiport, negated, and sender-chosen source ports count as all', (t) => {
  t.is(formatPorts(destinationPorts(rule('-A x -p tcp -m tcp --dport 7777 -j ACCEPT'))), '7777');
  t.is(formatPorts(destinationPorts(rule('-A x -p tcp -m multiport --dports 80,12000:12050 -j ACCEPT'))), '80,12000:12050');
  t.is(formatPorts(destinationPorts(rule('-A x -p tcp -m tcp ! --dport 22 -j ACCEPT'))), '1:21,23:65535');
  t.is(formatPorts(destinationPorts(rule('-A x -p tcp -m tcp --sport 53 -j ACCEPT'))), '1:65535');
  t.is(formatPorts(destinationPorts(rule('-A x -j ACCEPT'))), '1:65535');
});

test('protocol and connection state', (t) => {
  t.true(matchesTcp(rule('-A x -j ACCEPT')));
  t.true(matchesTcp(rule('-A x -p all -j ACCEPT')));
  t.false(matchesTcp(rule('-A x -p udp -j ACCEPT')));
  t.true(matchesTcp(rule('-A x ! -p udp -j ACCEPT')));
  t.true(onlyExistingConnections(rule('-A x -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')));
  t.false(onlyExistingConnections(rule('-A x -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT')));
  t.false(onlyExistingConnections(rule('-A x -m conntrack ! --ctstate INVALID -j ACCEPT')));
});

test('DNAT destinations, IPv4 and bracketed IPv6', (t) => {
  t.deepEqual(dnatDestination(rule('-A DOCKER -p tcp -m tcp --dport 7777 -j DNAT --to-destination 172.17.0.2:80')), {
    address: '172.17.0.2',
    ports: [80, 80],
  });
  t.deepEqual(dnatDestination(rule('-A DOCKER -p tcp -m tcp --dport 7777 -j DNAT --to-destination 172.17.0.2')), { address: '172.17.0.2' });
  t.deepEqual(dnatDestination(rule('-A DOCKER -p tcp -m tcp --dport 7777 -j DNAT --to-destination [fd00::2]:8000-8010', 'v6')), {
    address: 'fd00::2',
    ports: [8000, 8010],
  });
});
