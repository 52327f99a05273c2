// Entry point run *inside* a network namespace (the lab controller) by probeFromController:
//   node --import=tsx probe-main.ts --address 10.99.1.1[,10.99.1.2…] --ports 22,7741 [--source 10.8.0.1] [--timeout 1000] [--json]
// Prints one JSON array of {address, port, state} with --json, else one "address:port state" per line.
// Exit 0 after probing (whatever the states), 1 on bad arguments or a failed probe.

import { parseArgs } from 'node:util';
import { probePorts, type PortProbeResult } from '../net/probe.ts';

const parsePorts = (text: string): number[] =>
  text.split(',').flatMap((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (!range) return [Number(part.trim())];
    const from = Number(range[1]);
    const to = Number(range[2]);
    return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
  });

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      address: { type: 'string' },
      ports: { type: 'string' },
      source: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.address || !values.ports) {
    process.stderr.write('usage: probe-main.ts --address A[,B…] --ports 22,7741[,12000-12050] [--source IP] [--timeout MS] [--json]\n');
    return 1;
  }
  const ports = parsePorts(values.ports);
  const timeoutMs = values.timeout === undefined ? 1000 : Number(values.timeout);
  const addresses = values.address.split(',').filter(Boolean);
  // Addresses probe in parallel: each one costs at most one timeout however many there are.
  const perAddress = await Promise.all(
    addresses.map((address) => probePorts({ address, ports, timeoutMs, ...(values.source ? { sourceAddress: values.source } : {}) })),
  );
  const results: PortProbeResult[] = perAddress.flat();
  process.stdout.write(values.json ? `${JSON.stringify(results)}\n` : results.map((r) => `${r.address}:${r.port} ${r.state}\n`).join(''));
  return 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`probe: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
