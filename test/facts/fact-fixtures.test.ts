// Generic fact fixture runner (pyinfra style): every test/fixtures/facts/<fact>/<case>.json gives the
// raw output a fact script printed and either the parsed value or the FactError it must raise. Each
// fact must have at least one malformed-output case.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { z } from 'zod';
import { FactError } from '../../src/errors.ts';
import { interfaceAddresses } from '../../src/facts/addresses.ts';
import { batmInfo, batmManagePresent } from '../../src/facts/batm.ts';
import { hostClock } from '../../src/facts/clock.ts';
import { commandOutputFact } from '../../src/facts/command-output.ts';
import type { Fact } from '../../src/facts/fact.ts';
import { backupsFact, fileFact } from '../../src/facts/file.ts';
import { iptablesHost } from '../../src/facts/iptables-host.ts';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { networkInterfaces } from '../../src/facts/network.ts';
import { sshConnection } from '../../src/facts/ssh-connection.ts';
import { ufwState } from '../../src/facts/ufw.ts';

const FACTS: Readonly<Record<string, (args: Record<string, string>) => Fact<unknown>>> = {
  'ufw.state': () => ufwState,
  'network.interfaces': () => networkInterfaces,
  'file.stat': (args) => fileFact(args.path ?? ''),
  'file.backups': (args) => backupsFact(args.path ?? ''),
  'batm.info': () => batmInfo,
  'batm.present': () => batmManagePresent,
  'network.addresses': () => interfaceAddresses,
  'command.output': (args) => commandOutputFact(args.id ?? 'x', args.program ?? 'true', args.command ?? 'true'),
  'iptables.host': () => iptablesHost,
  'firewall.kernel': () => kernelFirewall,
  'ssh.connection': () => sshConnection,
  'host.clock': () => hostClock,
};

const caseSchema = z
  .object({
    description: z.string().optional(),
    args: z.record(z.string(), z.string()).optional(),
    /** Raw output; an array is joined with newlines (plus a final one). */
    output: z.union([z.string(), z.array(z.string())]),
    fact: z.unknown().optional(),
    /** Substring of the FactError message. */
    error: z.string().optional(),
  })
  .strict()
  .refine((c) => (c.fact === undefined) !== (c.error === undefined), 'exactly one of "fact" or "error"');

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'facts');
const factDirs = readdirSync(ROOT).sort();

test('every fixture folder names a known fact, and every fact has fixtures', (t) => {
  t.deepEqual(factDirs, Object.keys(FACTS).sort());
});

for (const dir of factDirs) {
  const files = readdirSync(join(ROOT, dir))
    .filter((file) => file.endsWith('.json'))
    .sort();
  const cases = files.map((file) => ({ file, data: caseSchema.parse(JSON.parse(readFileSync(join(ROOT, dir, file), 'utf8'))) }));

  test(`${dir} has a malformed-output fixture`, (t) => {
    t.true(cases.some(({ data }) => data.error !== undefined));
  });

  for (const { file, data } of cases) {
    test(`${dir}/${file}${data.description ? `: ${data.description}` : ''}`, (t) => {
      const factory = FACTS[dir];
      if (!factory) return t.fail(`unknown fact ${dir}`);
      const fact = factory(data.args ?? {});
      const output = Array.isArray(data.output) ? `${data.output.join('\n')}\n` : data.output;
      if (data.error !== undefined) {
        const error = t.throws(() => fact.parse(output), { instanceOf: FactError });
        t.true(error?.message.includes(data.error), `"${error?.message}" should contain "${data.error}"`);
      } else {
        t.deepEqual(fact.parse(output), data.fact);
      }
    });
  }
}

// The scripts run on the host as POSIX sh: at least they must parse with /bin/sh -n.
for (const [name, factory] of Object.entries(FACTS)) {
  test(`${name} script is valid sh`, (t) => {
    const fact = factory({ path: "/batm/config/gate it's.properties" });
    const result = spawnSync('sh', ['-n', '-c', fact.script], { encoding: 'utf8' });
    t.is(result.status, 0, result.stderr);
  });
}
