import test from 'ava';
import { z } from 'zod';
import { scenarioAVarsSchema, scenarioBVarsSchema } from '../../src/cas/cas-vars.ts';
import { scenarioAExposure, scenarioBExposure } from '../../src/cas/exposure.ts';
import { type PolicyRule, scenarioARules, scenarioBRules } from '../../src/cas/firewall-policy.ts';

const show = (rules: PolicyRule[]) =>
  rules.map((rule) => {
    const port = Array.isArray(rule.port) ? `${rule.port[0]}:${rule.port[1]}` : String(rule.port);
    return [rule.action, port, rule.interface ? `on ${rule.interface}` : '', rule.from ? `from ${rule.from}` : '']
      .filter(Boolean)
      .join(' ');
  });

test('Scenario A defaults follow the GB guide: SSH, admin VPN, terminal VPN open; 7741, 7777, 7743 closed', (t) => {
  const vars = scenarioAVarsSchema.parse({});
  t.deepEqual(show(scenarioARules(vars)), [
    'allow connection',
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
    sshPort: 22,
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
    'allow connection',
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
  t.deepEqual(scenarioAExposure(scenarioAVarsSchema.parse({}), { sshPort: 22 }), {
    reachable: [22, 12000, 7742, 13000],
    blocked: [7777, 7743, 7741],
  });
  t.deepEqual(
    scenarioAExposure(scenarioAVarsSchema.parse({ pairing: true, sshAllowFrom: '192.0.2.1' }), { sshPort: 22 }).reachable,
    [12000, 7742, 13000, 7741],
  );
});

test('the declared exposure of Scenario B blocks the gate and the terminal VPN from here', (t) => {
  t.deepEqual(scenarioBExposure(scenarioBVarsSchema.parse({ hardwareVpnSubnets: '10.8.0.0/24' }), { sshPort: 22 }), {
    reachable: [22, 12000],
    blocked: [7777, 7743, 7741, 7742, 13000],
  });
});

test('without sshPort, SSH stays on the port casfleet connects on: in the rules (resolved per host) and in the probes', (t) => {
  const vars = scenarioAVarsSchema.parse({});
  t.is(scenarioARules(vars)[0]?.port, 'connection');
  t.deepEqual(scenarioAExposure(vars, { sshPort: 2222 }).reachable.slice(0, 1), [2222]);
  t.deepEqual(scenarioAExposure(scenarioAVarsSchema.parse({ sshPort: 2200 }), { sshPort: 2222 }).reachable.slice(0, 1), [2200]);
});

const refusal = (schema: typeof scenarioAVarsSchema | typeof scenarioBVarsSchema, vars: Record<string, unknown>): string => {
  const result = schema.safeParse(vars);
  return result.success ? 'accepted' : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
};

test('an allow-from list refuses host bits, naming what was probably meant', (t) => {
  t.is(
    refusal(scenarioBVarsSchema, { hardwareVpnSubnets: '10.8.0.5/24' }),
    'hardwareVpnSubnets.0: 10.8.0.5/24 has host bits set after /24: did you mean the network 10.8.0.0/24, or the host 10.8.0.5?',
  );
  t.is(
    refusal(scenarioAVarsSchema, { adminAllowFrom: '1::/0' }),
    'adminAllowFrom.0: 1::/0 has host bits set after /0: did you mean the host 1::? (::/0 would be every IPv6 address); ' +
      "adminAllowFrom.0: 1::/0 is every IPv6 address, not a restriction: use adminGui: 'open' to open the admin GUI to everyone (GB: only until the admin VPN works)",
  );
  t.is(
    refusal(scenarioAVarsSchema, { extensions: { allowFrom: ['fd00::1/64'] } }),
    'extensions.allowFrom.0: fd00::1/64 has host bits set after /64: did you mean the network fd00::/64, or the host fd00::1?',
  );
});

test('a /0 in an allow-from list is refused with the way to really mean everyone', (t) => {
  t.is(
    refusal(scenarioAVarsSchema, { adminAllowFrom: ['192.0.2.7', '0.0.0.0/0'] }),
    "adminAllowFrom.1: 0.0.0.0/0 is every IPv4 address, not a restriction: use adminGui: 'open' to open the admin GUI to everyone (GB: only until the admin VPN works)",
  );
  t.regex(
    refusal(scenarioAVarsSchema, { sshAllowFrom: '::/0' }),
    /sshAllowFrom.0: ::\/0 is every IPv6 address, not a restriction: leave sshAllowFrom out/,
  );
  t.regex(refusal(scenarioAVarsSchema, { extensions: { allowFrom: ['0.0.0.0/0'] } }), /use extensions: \{\} to open 7743 to everyone/);
  t.regex(refusal(scenarioBVarsSchema, { hardwareVpnSubnets: '0.0.0.0/0' }), /7741 must not be open to everyone/);
  t.is(refusal(scenarioAVarsSchema, { sshAllowFrom: '203.0.113.7,2001:db8::/32' }), 'accepted');
});

test("adminGui: 'open' beside adminAllowFrom is refused: the open rule would make the list do nothing", (t) => {
  const refused =
    "adminAllowFrom: adminGui: 'open' opens the admin GUI 7777 to everyone, so adminAllowFrom would restrict nothing: leave adminGui closed (the default) to allow 7777 only from adminAllowFrom, or drop adminAllowFrom";
  t.is(refusal(scenarioAVarsSchema, { adminGui: 'open', adminAllowFrom: ['192.0.2.7'] }), refused);
  t.is(refusal(scenarioBVarsSchema, { adminGui: 'open', adminAllowFrom: '192.0.2.7', hardwareVpnSubnets: '10.8.0.0/24' }), refused);
  t.is(refusal(scenarioAVarsSchema, { adminGui: 'open' }), 'accepted');
  t.is(refusal(scenarioAVarsSchema, { adminGui: 'closed', adminAllowFrom: ['192.0.2.7'] }), 'accepted');
  // A user playbook that extends a scenario's vars keeps the refusal.
  t.is(refusal(scenarioAVarsSchema.extend({ slots: z.int().default(20) }), { adminGui: 'open', adminAllowFrom: ['192.0.2.7'] }), refused);
});

test('a source wider than /8 (IPv6: /16) is refused like a /0: a few of them cover everyone', (t) => {
  t.is(
    refusal(scenarioAVarsSchema, { adminAllowFrom: '0.0.0.0/1,128.0.0.0/1' }),
    [0, 128]
      .map(
        (first, index) =>
          `adminAllowFrom.${index}: ${first}.0.0.0/1 is 1/2 of every IPv4 address, too wide to be a restriction (a source list takes /8 or narrower for IPv4, /16 or narrower for IPv6): list the networks meant, or use adminGui: 'open' to open the admin GUI to everyone (GB: only until the admin VPN works)`,
      )
      .join('; '),
  );
  t.regex(
    refusal(scenarioAVarsSchema, { sshAllowFrom: '2000::/3' }),
    /^sshAllowFrom\.0: 2000::\/3 is 1\/8 of every IPv6 address, .*leave sshAllowFrom out/,
  );
  t.regex(refusal(scenarioAVarsSchema, { extensions: { allowFrom: ['4.0.0.0/7'] } }), /1\/128 of every IPv4 address.*use extensions: \{\}/);
  t.regex(
    refusal(scenarioBVarsSchema, { hardwareVpnSubnets: '10.0.0.0/7' }),
    /too wide to be a restriction.*7741 must not be open to everyone/,
  );
  t.is(refusal(scenarioAVarsSchema, { sshAllowFrom: '10.0.0.0/8,2001::/16', adminAllowFrom: '192.0.2.7' }), 'accepted');
});
