// Entry point run *inside* a network namespace (the lab controller) by probeFromController:
//   node --import=tsx probe-main.ts --address 10.99.1.1[,10.99.1.2…] --ports 22,7741 [--source 10.8.0.1] [--timeout 1000] [--json]
// Prints one JSON array of {address, port, state} with --json, else one "address:port state" per line.
// With --watch MS it keeps probing instead, starting every port again every MS milliseconds until
// its stdin closes, and prints one JSON line per finished probe, {address, port, state, startedMs, ms}:
// how the ports behave *while* something changes (watchFromController).
// Exit 0 after probing (whatever the states), 1 on bad arguments or a failed probe.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type PortProbeResult, probePort, probePorts } from '../net/probe.ts';

/**
 * Probes every address:port every `intervalMs` until stdin ends, each probe on its own (a slow,
 * filtered one never delays the next round); resolves once the last probe in flight finished.
 */
const watch = async (
  addresses: readonly string[],
  ports: readonly number[],
  intervalMs: number,
  timeoutMs: number,
  source: string | undefined,
): Promise<void> => {
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const round = (): void => {
    for (const address of addresses) {
      for (const port of ports) {
        const at = performance.now();
        const probe = probePort(address, port, source, timeoutMs).then((result) => {
          const line = { ...result, startedMs: Math.round(at - started), ms: Math.round(performance.now() - at) };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        });
        inFlight.add(probe);
        void probe.finally(() => inFlight.delete(probe));
      }
    }
  };
  round();
  const timer = setInterval(round, intervalMs);
  await new Promise<void>((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume();
  });
  clearInterval(timer);
  await Promise.all(inFlight);
};

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
      watch: { type: 'string' },
    },
    strict: true,
  });
  if (!values.address || !values.ports) {
    process.stderr.write(
      'usage: probe-main.ts --address A[,B…] --ports 22,7741[,12000-12050] [--source IP] [--timeout MS] [--json | --watch MS]\n',
    );
    return 1;
  }
  const ports = parsePorts(values.ports);
  const timeoutMs = values.timeout === undefined ? 1000 : Number(values.timeout);
  const addresses = values.address.split(',').filter(Boolean);
  if (values.watch !== undefined) {
    await watch(addresses, ports, Number(values.watch), timeoutMs, values.source);
    return 0;
  }
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
