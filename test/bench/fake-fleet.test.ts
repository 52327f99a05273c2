// The scale bench's fake fleet must be a fleet casfleet can really drive: a first apply changes every
// fake host, and the re-run finds nothing left to do (each host moved from fresh to applied).
import test from 'ava';
import { type FakeFleet, startFakeFleet } from '../../bench/fake-fleet/fake-fleet.ts';
import { runCli } from '../../bench/fake-fleet/run-cli.ts';
import { labUnavailableReason } from '../helpers/lab.ts';

const HOSTS = 20;
const unavailable = labUnavailableReason();
let fleet: FakeFleet | undefined;

interface RecapCounts {
  readonly changed: number;
  readonly failed: number;
  readonly unreachable: number;
  readonly rolledBack: number;
}

const apply = async (t: { log: (...values: unknown[]) => void }): Promise<{ code: number | null; hosts: RecapCounts[] }> => {
  const run = await runCli(fleet!.controller, ['apply', 'scenario-a', '-i', fleet!.inventoryPath, '--no-probe', '--json']);
  if (run.code !== 0) t.log(run.stdout.slice(-3000), run.stderr);
  const recap = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { hosts?: Record<string, RecapCounts> };
  return { code: run.code, hosts: Object.values(recap.hosts ?? {}) };
};

test.before(async () => {
  if (unavailable === undefined) fleet = await startFakeFleet({ prefix: `hzt${process.pid}`, hosts: HOSTS });
});

test.after.always(async () => {
  await fleet?.stop();
});

test.serial('a first apply changes every fake host, the re-run none', async (t) => {
  if (unavailable !== undefined) return t.pass(`skipped: ${unavailable}`);
  t.timeout(600_000);
  const first = await apply(t);
  t.is(first.code, 0);
  t.is(first.hosts.length, HOSTS);
  t.true(first.hosts.every((host) => host.changed > 0 && host.failed + host.unreachable + host.rolledBack === 0));
  const again = await apply(t);
  t.is(again.code, 0);
  t.is(again.hosts.length, HOSTS);
  t.true(again.hosts.every((host) => host.changed === 0 && host.failed + host.unreachable + host.rolledBack === 0));
});
