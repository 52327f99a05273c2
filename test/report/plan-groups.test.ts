import test from 'ava';
import { PLAIN, type Style } from '../../src/report/format-event.ts';
import type { HostPlan } from '../../src/report/host-plans.ts';
import { formatPlanGroups, groupPlans } from '../../src/report/plan-groups.ts';

const name = (number: number) => `cas-${String(number).padStart(3, '0')}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => name(from + index));

const OPEN_ADMIN_VPN = [{ step: 'firewall (ufw)', summaries: ['+ allow 12000:12050/tcp in on eth0', '- allow 7777/tcp'] }];
const RESTORE_VPN = [{ step: 'vpn folder', summaries: ['+ /batm/config/vpn (restored)'] }];

const planned = (host: string, changes: HostPlan['changes']): HostPlan => ({ host, outcome: 'planned', changes });

// 46 hosts need the firewall change, 2 also need the VPN folder, 3 are compliant, 2 fail alike,
// 1 fails differently, 1 is unreachable; given in inventory order, interleaved.
const fleet: HostPlan[] = [
  ...range(1, 40).map((host) => planned(host, OPEN_ADMIN_VPN)),
  planned(name(41), [...OPEN_ADMIN_VPN, ...RESTORE_VPN]),
  ...range(42, 47).map((host) => planned(host, OPEN_ADMIN_VPN)),
  { host: name(48), outcome: 'failed', changes: [], error: 'firewall (ufw): ufw is not installed' },
  planned(name(49), []),
  // A step that plans nothing must not make a host look different from a compliant one.
  planned(name(50), [{ step: 'firewall (ufw)', summaries: [] }]),
  planned(name(51), [...OPEN_ADMIN_VPN, ...RESTORE_VPN]),
  { host: name(52), outcome: 'unreachable', changes: [], error: 'connection refused' },
  { host: name(53), outcome: 'failed', changes: [], error: 'firewall (ufw): ufw is not installed' },
  { host: name(54), outcome: 'failed', changes: OPEN_ADMIN_VPN, error: 'gate.properties: permission denied' },
  planned(name(55), []),
];

test('Hosts with identical plans form one group, biggest change group first, then compliant, failed and unreachable', (t) => {
  t.deepEqual(groupPlans(fleet), [
    { kind: 'changes', hosts: [...range(1, 40), ...range(42, 47)], changes: OPEN_ADMIN_VPN },
    { kind: 'changes', hosts: [name(41), name(51)], changes: [...OPEN_ADMIN_VPN, ...RESTORE_VPN] },
    { kind: 'compliant', hosts: [name(49), name(50), name(55)] },
    { kind: 'failed', hosts: [name(48), name(53)], error: 'firewall (ufw): ufw is not installed' },
    { kind: 'failed', hosts: [name(54)], error: 'gate.properties: permission denied' },
    { kind: 'unreachable', hosts: [name(52)], error: 'connection refused' },
  ]);
});

test('The grouped plan reads as counts, compacted names and the changes indented below', (t) => {
  t.deepEqual(formatPlanGroups(groupPlans(fleet), PLAIN), [
    '46 hosts (cas-001…cas-040, cas-042…cas-047):',
    '    firewall (ufw): + allow 12000:12050/tcp in on eth0',
    '    firewall (ufw): - allow 7777/tcp',
    '2 hosts (cas-041, cas-051):',
    '    firewall (ufw): + allow 12000:12050/tcp in on eth0',
    '    firewall (ufw): - allow 7777/tcp',
    '    vpn folder: + /batm/config/vpn (restored)',
    '3 hosts: already compliant',
    '2 hosts: failed (cas-048, cas-053: firewall (ufw): ufw is not installed)',
    '1 host: failed (cas-054: gate.properties: permission denied)',
    '1 host: unreachable (cas-052: connection refused)',
  ]);
});

test('Equal-sized change groups keep the order of their first host', (t) => {
  const groups = groupPlans([planned('b-1', RESTORE_VPN), planned('a-1', OPEN_ADMIN_VPN)]);
  t.deepEqual(
    groups.map((group) => group.hosts),
    [['b-1'], ['a-1']],
  );
});

test('Unreachable hosts are grouped by their error', (t) => {
  const plans: HostPlan[] = ['cas-001', 'cas-002', 'cas-003'].map((host, index) => ({
    host,
    outcome: 'unreachable',
    changes: [],
    error: index === 1 ? 'host key mismatch' : 'connection timed out',
  }));
  t.deepEqual(formatPlanGroups(groupPlans(plans), PLAIN), [
    '2 hosts: unreachable (cas-001, cas-003: connection timed out)',
    '1 host: unreachable (cas-002: host key mismatch)',
  ]);
});

test('An error of several lines is listed below its hosts', (t) => {
  const plans: HostPlan[] = [{ host: 'cas-001', outcome: 'failed', changes: [], error: 'batm-manage: exit 1\nstderr: gate not found' }];
  t.deepEqual(formatPlanGroups(groupPlans(plans), PLAIN), [
    '1 host: failed (cas-001):',
    '    batm-manage: exit 1',
    '    stderr: gate not found',
  ]);
});

test('A long host list in a group is cut to the limit', (t) => {
  const plans = [1, 3, 5, 7].map((number) => planned(name(number), OPEN_ADMIN_VPN));
  t.is(formatPlanGroups(groupPlans(plans), PLAIN, { hostLimit: 2 })[0], '4 hosts (cas-001, cas-003, … +2 more):');
});

test('No hosts give no lines', (t) => {
  t.deepEqual(formatPlanGroups(groupPlans([]), PLAIN), []);
});

test('Colours: changes yellow, additions green, removals red, compliant green, failures red', (t) => {
  const tag = (name: string) => (text: string) => `<${name}>${text}</${name}>`;
  const style: Style = { green: tag('g'), yellow: tag('y'), red: tag('r'), cyan: tag('c'), dim: tag('d') };
  const plans: HostPlan[] = [
    planned('cas-001', OPEN_ADMIN_VPN),
    planned('cas-002', []),
    { host: 'cas-003', outcome: 'unreachable', changes: [], error: 'connection refused' },
  ];
  t.deepEqual(formatPlanGroups(groupPlans(plans), style), [
    '<y>1 host (cas-001):</y>',
    '    firewall (ufw): <g>+ allow 12000:12050/tcp in on eth0</g>',
    '    firewall (ufw): <r>- allow 7777/tcp</r>',
    '<g>1 host: already compliant</g>',
    '<r>1 host: unreachable (cas-003: connection refused)</r>',
  ]);
});

test('warnings split compliant hosts and are shown under their group', (t) => {
  const FORWARDED = [{ step: 'firewall (ufw)', text: 'tcp 7777 is forwarded to 172.17.0.2:80' }];
  const groups = groupPlans([
    planned(name(1), []),
    { ...planned(name(2), []), warnings: FORWARDED },
    planned(name(3), []),
    { ...planned(name(4), OPEN_ADMIN_VPN), warnings: FORWARDED },
  ]);
  t.deepEqual(groups, [
    { kind: 'changes', hosts: [name(4)], changes: OPEN_ADMIN_VPN, warnings: FORWARDED },
    { kind: 'compliant', hosts: [name(1), name(3)] },
    { kind: 'compliant', hosts: [name(2)], warnings: FORWARDED },
  ]);
  t.deepEqual(formatPlanGroups(groups, PLAIN), [
    '1 host (cas-004):',
    '    firewall (ufw): + allow 12000:12050/tcp in on eth0',
    '    firewall (ufw): - allow 7777/tcp',
    '    firewall (ufw): warning: tcp 7777 is forwarded to 172.17.0.2:80',
    '2 hosts: already compliant',
    '1 host: already compliant (cas-002)',
    '    firewall (ufw): warning: tcp 7777 is forwarded to 172.17.0.2:80',
  ]);
});
