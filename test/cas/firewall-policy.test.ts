import test from 'ava';
import { scenarioAVarsSchema, scenarioBVarsSchema } from '../../src/cas/cas-vars.ts';
import { scenarioAExposure, scenarioBExposure } from '../../src/cas/exposure.ts';
import { scenarioARules, scenarioBRules, type PolicyRule } from '../../src/cas/firewall-policy.ts';

const show = (rules: PolicyRule[]) =>
  rules.map((rule) => {
    const port = Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : String(rule.port);
    return [rule.action, port, rule.interface ? `on ${rule.interface}` : '', rule.from ? `from ${rule.from}` : ''].filter(Boolean).join(' ');
  });

test('Scenario A defaults follow the GB guide: SSH, admin VPN, terminal VPN open; 7741, 7777, 7743 closed', (t) => {
  const vars = scenarioAVarsSchema.parse({});
  t.deepEqual(show(scenarioARules(vars)), [
    'allow 22',
    'allow 12000:12050 on default-route',
    'allow 7742 on default-route',
    'allow 13000:13010 on default-route',
    'deny 7741',
    'deny 7777',
    'deny 7743',
  ]);
});

test('Scenario A options open exactly what they name', (t) => {
  const vars = scenarioAVarsSchema.parse({
    publicInterface: 'ens3',
    sshAllowFrom: '203.0.113.7,198.51.100.0/24',
    pairing: true,
    adminAllowFrom: ['192.0.2.10'],
    extensions: { allowFrom: ['192.0.2.0/28'] },
    proxy: true,
  });
  t.deepEqual(show(scenarioARules(vars)), [
    'allow 22 from 203.0.113.7',
    'allow 22 from 198.51.100.0/24',
    'allow 12000:12050 on ens3',
    'allow 7742 on ens3',
    'allow 13000:13010 on ens3',
    'allow 7741',
    'allow 7777 from 192.0.2.10',
    'deny 7777',
    'allow 7743 from 192.0.2.0/28',
    'deny 7743',
    'allow 443',
  ]);
});

test('Scenario B allows 7741 only from the hardware VPN networks, before the blanket deny, and closes the terminal VPN', (t) => {
  const vars = scenarioBVarsSchema.parse({ hardwareVpnSubnets: '10.8.0.0/24' });
  t.deepEqual(show(scenarioBRules(vars)), [
    'allow 22',
    'allow 12000:12050 on default-route',
    'allow 7741 from 10.8.0.0/24',
    'deny 7741',
    'deny 7742',
    'deny 13000:13010',
    'deny 7777',
    'deny 7743',
  ]);
});

test('Scenario B requires hardwareVpnSubnets and rejects malformed networks', (t) => {
  t.false(scenarioBVarsSchema.safeParse({}).success);
  t.false(scenarioBVarsSchema.safeParse({ hardwareVpnSubnets: '10.8.0.0/33' }).success);
  t.false(scenarioBVarsSchema.safeParse({ hardwareVpnSubnets: [] }).success);
});

test('an open admin GUI is an explicit, labelled choice', (t) => {
  const rules = scenarioARules(scenarioAVarsSchema.parse({ adminGui: 'open' }));
  t.true(rules.some((rule) => rule.port === 7777 && rule.action === 'allow' && /close once the admin VPN works/.test(rule.comment)));
});

test('the declared exposure of Scenario A: SSH, VPN ports reachable; gate, admin GUI, extensions blocked', (t) => {
  t.deepEqual(scenarioAExposure(scenarioAVarsSchema.parse({})), { reachable: [22, 12000, 7742, 13000], blocked: [7777, 7743, 7741] });
  t.deepEqual(scenarioAExposure(scenarioAVarsSchema.parse({ pairing: true, sshAllowFrom: '192.0.2.1' })).reachable, [12000, 7742, 13000, 7741]);
});

test('the declared exposure of Scenario B blocks the gate and the terminal VPN from here', (t) => {
  t.deepEqual(scenarioBExposure(scenarioBVarsSchema.parse({ hardwareVpnSubnets: '10.8.0.0/24' })), {
    reachable: [22, 12000],
    blocked: [7777, 7743, 7741, 7742, 13000],
  });
});
