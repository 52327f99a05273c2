// The live view on a TTY: a single listr2 task whose title is the fleet aggregate (rollout stage,
// hosts per stage of work and per outcome) and whose output bar names a few active and failing
// hosts. One row for the whole fleet, refreshed at most 10 times a second, stays cheap at hundreds
// of hosts (listr2's default renderer costs seconds of CPU with hundreds of live rows:
// research/deps.md §3). Details (changes, failures) are printed when the view closes, before the
// recap; the view also closes while the run asks a question (approval after the canary).

import { Listr } from 'listr2';
import { type HostStageEvent, hostFailed, type RunEvent } from './events.ts';
import { formatStageEvent, formatStepEvent, formatUnreachable, type Style } from './format-event.ts';
import { createPlanCollector } from './host-plans.ts';
import { formatPlanGroups, groupPlans } from './plan-groups.ts';
import { formatRecap, SMALL_FLEET } from './recap.ts';
import type { Reporter, Write } from './reporter.ts';
import { printable } from './terminal-text.ts';

const REFRESH_MS = 100;
const LISTED_HOSTS = 5;

type Stage = HostStageEvent['stage'];

export const createLiveReporter = (write: Write, options: { readonly style: Style; readonly verbose: boolean }): Reporter => {
  const stages = new Map<string, Stage>();
  const failing = new Map<string, string>();
  const finished = { ok: 0, changed: 0, failed: 0, rolledBack: 0 };
  let details: string[] = [];
  // Stage outcomes ("batch 2/4 done: no failures; gates passed on 10 hosts"), printed with the details.
  let stageLines: string[] = [];
  let total = 0;
  let playbook = '';
  let rolloutStage = '';
  let recapLines: string[] = [];
  let view: { readonly close: () => Promise<void> } | undefined;
  // A large fleet's details are grouped by identical outcome instead of listed host by host.
  let grouped = createPlanCollector();
  const order = new Map<string, number>();
  const isLarge = () => total > SMALL_FLEET && !options.verbose;

  const title = (): string => {
    const count = (stage: Stage) => [...stages.values()].filter((s) => s === stage).length;
    const inFlight = (['connecting', 'gathering', 'applying', 'changing', 'handlers', 'confirming'] as const)
      .map((stage) => `${stage} ${count(stage)}`)
      .join(' · ');
    const doneCount = finished.ok + finished.changed + finished.failed + finished.rolledBack;
    const where = rolloutStage ? ` · ${rolloutStage}` : '';
    const rolledBack = finished.rolledBack > 0 ? ` · rolled back ${finished.rolledBack}` : '';
    return `${playbook}${where}: ${doneCount}/${total} hosts done — ${inFlight} — ok ${finished.ok} · changed ${finished.changed} · failed ${finished.failed}${rolledBack}`;
  };

  // Two lines: who is being worked on, and who is failing. The output bar shows the latest pair.
  const output = (): string => {
    const active = [...stages.entries()].filter(([, stage]) => stage !== 'done');
    const shown = active.slice(0, LISTED_HOSTS).map(([host, stage]) => `${host} (${stage})`);
    const more = active.length > LISTED_HOSTS ? ` … +${active.length - LISTED_HOSTS}` : '';
    const failures = [...failing.entries()]
      .slice(0, LISTED_HOSTS)
      .map(([host, error]) => `${host}: ${printable(error.split('\n')[0] ?? '')}`);
    const moreFailures = failing.size > LISTED_HOSTS ? ` … +${failing.size - LISTED_HOSTS}` : '';
    return [
      `active: ${shown.join(', ') || '-'}${more}`,
      failures.length > 0 ? options.style.red(`failing: ${failures.join(' · ')}${moreFailures}`) : 'failing: none',
    ].join('\n');
  };

  const open = (): void => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const list = new Listr(
      [
        {
          title: title(),
          task: async (_ctx, task) => {
            const timer = setInterval(() => {
              task.title = title();
              task.output = output();
            }, REFRESH_MS);
            await released;
            clearInterval(timer);
            task.title = title();
            if (failing.size > 0) throw new Error(`${failing.size} host${failing.size === 1 ? '' : 's'} failed or unreachable`);
          },
          rendererOptions: { outputBar: 1, persistentOutput: false },
        },
      ],
      { exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
    );
    const running = list.run().catch(() => undefined);
    view = {
      close: async () => {
        release();
        await running;
      },
    };
  };

  const close = async (): Promise<void> => {
    const current = view;
    view = undefined;
    await current?.close();
    const inOrder = grouped
      .plans()
      .filter((plan) => plan.outcome !== 'planned' || plan.changes.length > 0)
      .sort((a, b) => (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0));
    const lines = [...(isLarge() ? [...formatPlanGroups(groupPlans(inOrder), options.style), ...details] : details), ...stageLines];
    if (lines.length > 0) write(`\n${lines.join('\n')}\n`);
    details = [];
    stageLines = [];
    grouped = createPlanCollector();
  };

  return {
    emit(event: RunEvent) {
      if (event.type === 'step' || event.type === 'unreachable') grouped.emit(event);
      switch (event.type) {
        case 'run-start':
          total = event.hosts.length;
          for (const [index, host] of event.hosts.entries()) order.set(host, index);
          playbook = `${event.playbook}${event.check ? ' (check mode)' : ''}`;
          open();
          break;
        case 'stage':
          if (event.kind === 'all') break;
          rolloutStage = event.status === 'soak' ? `${event.label} done, soaking` : event.label;
          if (event.status === 'done') stageLines.push(formatStageEvent(event));
          break;
        case 'host-stage':
          stages.set(event.host, event.stage);
          break;
        case 'step':
          if (event.status === 'failed' || event.status === 'rolled-back') failing.set(event.host, event.error?.message ?? event.step);
          if (!isLarge() && (options.verbose || event.status !== 'ok' || event.warnings?.length || event.diff)) {
            details.push(...formatStepEvent(event, options.style, options.verbose));
          }
          break;
        case 'unreachable':
          failing.set(event.host, event.error.message);
          if (!isLarge()) details.push(...formatUnreachable(event, options.style));
          break;
        case 'host-end':
          stages.set(event.host, 'done');
          if (event.counts.rolledBack > 0) finished.rolledBack += 1;
          else if (hostFailed(event.counts)) finished.failed += 1;
          else if (event.counts.changed > 0) finished.changed += 1;
          else finished.ok += 1;
          break;
        case 'halt':
          details.push(
            options.style.red(
              `HALTED: ${event.reason}; ${event.untouched.length} host${event.untouched.length === 1 ? '' : 's'} untouched`,
            ),
          );
          break;
        case 'recap':
          recapLines = formatRecap(event.hosts, options.style, { all: options.verbose });
          break;
      }
    },
    suspend: close,
    resume: open,
    async finish() {
      await close();
      write(`${recapLines.join('\n')}\n`);
    },
  };
};
