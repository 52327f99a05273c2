// One host hung in a run of several: its SSH traffic dropped in the controller's namespace from the
// start, so casfleet waits out its connect timeout. The other hosts must not wait for it: in a plain
// run every healthy host ends before the hung host's timeout could have expired (a control run
// without the fault shows how long they take alone), and in a rollout with the hung host in batch 1
// batch 2 starts as soon as that host is given up, not one timeout later.
import { run as exec } from '../../src/lab/lab-exec.ts';
import { DEFAULT_READY_TIMEOUT_MS } from '../../src/ssh/handshake.ts';
import { assertRow, faultLab, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 3, prefix: 'hg' });
const HUNG = 'cas-001';
const HEALTHY = ['cas-002', 'cas-003'];

/** Drop every packet between the controller and the host; returns the undo. */
const blackhole = async (host: string) => {
  const address = the().host(host).address;
  const rules = [
    ['OUTPUT', '-d', address, '-j', 'DROP'],
    ['INPUT', '-s', address, '-j', 'DROP'],
  ];
  const iptables = async (action: string, rule: readonly string[]) => {
    const result = await exec(['ip', 'netns', 'exec', the().controllerNetns, 'iptables', '-w', action, ...rule]);
    if (result.code !== 0) throw new Error(`iptables ${action} ${rule.join(' ')}: ${result.stderr}`);
  };
  for (const rule of rules) await iptables('-I', rule);
  return async () => {
    for (const rule of rules) await iptables('-D', rule);
  };
};

type Casfleet = ReturnType<typeof startCasfleet>;
const eventAt = (casfleet: Casfleet, match: (event: Casfleet['events'][number]['event']) => boolean): number | undefined =>
  casfleet.events.find(({ event }) => match(event))?.at;
const hostEnd = (casfleet: Casfleet, host: string) => casfleet.events.find(({ event }) => event.type === 'host-end' && event.host === host);
/** How long the host took, from its start to its end, as casfleet reported it. */
const durationOf = (casfleet: Casfleet, host: string): number | undefined =>
  hostEnd(casfleet, host)?.event.durationMs as number | undefined;
const seconds = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

const toScenarioA = async (hosts: readonly string[]): Promise<void> => {
  const result = await kit.casfleet(['apply', 'scenario-a', '-l', hosts.join(',')]);
  if (result.code !== 0) throw new Error(`back to Scenario A failed:\n${result.stdout}${result.stderr}`);
};

run('a hung host delays neither the other hosts of its run nor the next batch beyond its own timeout', async (t) => {
  const starts = Object.fromEntries(await Promise.all([HUNG, ...HEALTHY].map(async (host) => [host, await kit.prepare(host)] as const)));

  // Control: the healthy hosts alone.
  const control = startCasfleet(kit, the(), ['apply', ...SCENARIO_B, '-l', HEALTHY.join(',')]);
  const controlResult = await control.done;
  t.is(controlResult.code, 0, `${controlResult.stdout}${controlResult.stderr}`);
  const alone = HEALTHY.map((host) => durationOf(control, host));
  await toScenarioA(HEALTHY);

  // The same hosts beside a hung one, in one stage.
  const undo = await blackhole(HUNG);
  const faulted = startCasfleet(kit, the(), ['apply', ...SCENARIO_B]);
  const faultedResult = await faulted.done;
  const hungReported = eventAt(faulted, (event) => event.type === 'unreachable' && event.host === HUNG);
  const hungTook = durationOf(faulted, HUNG);
  const beside = HEALTHY.map((host) => durationOf(faulted, host));
  // All hosts start together; the hung one is given up once its connect timeout expires. Every
  // healthy host must have ended before that could happen: reported earlier, and quicker than it.
  const notDelayed =
    hungReported !== undefined &&
    HEALTHY.every((host) => {
      const end = hostEnd(faulted, host);
      return end !== undefined && end.at < hungReported && (end.event.durationMs as number) < DEFAULT_READY_TIMEOUT_MS;
    });

  // A rollout: the hung host alone in batch 1, the others in batch 2.
  await toScenarioA(HEALTHY);
  const batched = startCasfleet(kit, the(), ['apply', ...SCENARIO_B, '--batches', '1,2', '--max-fail', '1', '--yes']);
  const batchedResult = await batched.done;
  await undo();
  const batch1Start = eventAt(batched, (event) => event.type === 'stage' && event.index === 0 && event.status === 'start');
  const batchHung = eventAt(batched, (event) => event.type === 'unreachable' && event.host === HUNG);
  const batch2Start = eventAt(batched, (event) => event.type === 'stage' && event.index === 1 && event.status === 'start');
  // Batch 2 waits for the hung host's one timeout, then the stage's gates, never a second timeout.
  const batchDelayedOnce =
    batch1Start !== undefined &&
    batchHung !== undefined &&
    batch2Start !== undefined &&
    batch2Start - batch1Start < 2 * DEFAULT_READY_TIMEOUT_MS &&
    batch2Start >= batchHung;
  const batchHealthyEnded = HEALTHY.every((host) => hostEnd(batched, host) !== undefined);
  const batchGap = batch1Start !== undefined && batch2Start !== undefined ? batch2Start - batch1Start : undefined;

  const verdicts = await Promise.all(HEALTHY.map((host) => kit.judge(host, starts[host]!)));
  const hungVerdict = await kit.judge(HUNG, starts[HUNG]!);
  const converged = (await kit.casfleet(['apply', ...SCENARIO_B])).code === 0;
  assertRow(
    t,
    {
      fault: 'one of 3 hosts blackholed; plain run, batches',
      phase: 'connect',
      hosts: 3,
      consistent:
        notDelayed && batchDelayedOnce && batchHealthyEnded && verdicts.every((v) => v.ending === 'new') && hungVerdict.ending === 'old',
      dataLost: [...verdicts, hungVerdict].some((v) => v.dataLost),
      converged,
      detectionMs: hungTook,
      ending:
        `hung one unreachable; others took ${beside.map(seconds).join(', ')} (alone: ${alone.map(seconds).join(', ')}); ` +
        `batch 2 began ${seconds(batchGap)} after batch 1`,
    },
    `control:\n${controlResult.stdout}\nfaulted (exit ${faultedResult.code}):\n${faultedResult.stdout}${faultedResult.stderr}\nbatched (exit ${batchedResult.code}):\n${batchedResult.stdout}${batchedResult.stderr}`,
  );
  t.true(notDelayed, 'every healthy host ended before the hung host could have been given up');
  t.true(batchDelayedOnce, 'batch 2 began once the hung host was given up, within one timeout of it');
});
