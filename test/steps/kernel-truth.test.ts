// Kernel truth on REAL dumps: every test/fixtures/kernel/<case>/ holds the raw output of the ufw
// and kernel fact scripts captured on a lab host (iptables 1.8.9, nf_tables) after the setup its
// expected.json describes, and what the analysis must conclude from them.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { z } from 'zod';
import { CAS_PORTS } from '../../src/cas/firewall-policy.ts';
import { parseKernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { parseUfwState } from '../../src/facts/ufw.ts';
import { analyseKernel, type KernelTruth } from '../../src/steps/kernel-truth.ts';
import { formatPorts } from '../../src/steps/port-ranges.ts';

const expectedSchema = z
  .object({
    description: z.string(),
    setup: z.string(),
    ufwLoaded: z.boolean(),
    ufwUnhooked: z.array(z.enum(['v4', 'v6'])).default([]),
    /** Substrings, one per drift line, in order. */
    drift: z.array(z.string()).default([]),
    inputPolicy: z.record(z.string(), z.string()),
    forwardPolicy: z.record(z.string(), z.string()),
    foreignAccepts: z.array(z.object({ family: z.enum(['v4', 'v6']), text: z.string(), ports: z.string() }).strict()).default([]),
    forwardedPorts: z
      .array(z.object({ ports: z.string(), to: z.string(), acceptedBy: z.string().nullable(), forwarding: z.boolean() }).strict())
      .default([]),
    casRules: z.array(z.string()).default([]),
  })
  .strict();

const ROOT = join(import.meta.dirname, '..', 'fixtures', 'kernel');

const read = (dir: string, file: string) => readFileSync(join(ROOT, dir, file), 'utf8');

const view = (truth: KernelTruth) => ({
  ufwLoaded: truth.ufwLoaded,
  ufwUnhooked: truth.ufwUnhooked,
  inputPolicy: truth.inputPolicy,
  forwardPolicy: truth.forwardPolicy,
  foreignAccepts: truth.foreignAccepts.map((a) => ({
    family: a.rule.family,
    text: a.rule.text,
    ports: a.ports === 'all' ? 'all' : formatPorts(a.ports),
  })),
  forwardedPorts: truth.forwardedPorts.map((f) => ({
    ports: formatPorts(f.ports),
    to: f.to,
    acceptedBy: f.acceptedBy ?? null,
    forwarding: f.forwarding,
  })),
  casRules: truth.casRules.map((rule) => rule.text),
});

for (const dir of readdirSync(ROOT).sort()) {
  const expected = expectedSchema.parse(JSON.parse(read(dir, 'expected.json')));
  test(`${dir}: ${expected.description}`, (t) => {
    const truth = analyseKernel({
      ufw: parseUfwState(read(dir, 'ufw.txt')),
      kernel: parseKernelFirewall(read(dir, 'kernel.txt')),
      protectedPorts: CAS_PORTS,
    });
    const { drift, description: _d, setup: _s, ...rest } = expected;
    t.deepEqual(view(truth), rest);
    t.is(truth.drift.length, drift.length, truth.drift.join('\n'));
    for (const [i, part] of drift.entries())
      t.true(truth.drift[i]?.includes(part), `drift ${i}: "${truth.drift[i]}" should contain "${part}"`);
  });
}
