// Restarting a CAS service after its configuration changed (Scenario B needs gate to re-read
// gate.properties: whether it does so without a restart is undocumented, so restart [I]).
// batm-manage documents `stop <svc>` and `start <svc>` but no `restart` verb [I], hence stop && start;
// if stop fails the service is not started a second time. The check reads `batm-manage info`
// (facts/batm.ts, whose output format is itself undocumented [I]).
import { z } from 'zod';
import { sh } from '../command/shell.ts';
import { parseArgs } from '../facts/args.ts';
import { BATM_MANAGE, type BatmInfo, batmInfo, batmManagePresent } from '../facts/batm.ts';
import { defineHandler, type Handler } from './step.ts';

const serviceSchema = z.enum(['gate', 'master', 'admin']);

export type BatmService = z.infer<typeof serviceSchema>;

/** The problem with `info` after a restart of `service`, or undefined when it shows it running. */
export const checkBatmRunning = (service: BatmService, info: BatmInfo): string | undefined => {
  if (!info.present) return `${BATM_MANAGE} does not exist on this host`;
  const state = info.services[service];
  if (state === 'running') return undefined;
  const shown = info.output.slice(0, 6).join(' | ') || '(no output)';
  if (state === 'stopped') return `${service} is stopped after the restart (batm-manage info: ${shown})`;
  return `batm-manage info (exit ${info.exitCode ?? '?'}) does not show ${service}'s state: ${shown}`;
};

/** Handler `restart batm <service>`: `batm-manage stop <service> && batm-manage start <service>`. */
export const restartBatmService = (service: BatmService): Handler => {
  const checked = parseArgs(serviceSchema, service, 'restartBatmService');
  return defineHandler({
    name: `restart batm ${checked}`,
    command: sh`${BATM_MANAGE} stop ${checked} && ${BATM_MANAGE} start ${checked}`,
    facts: { batm: batmInfo },
    check: ({ batm }) => checkBatmRunning(checked, batm),
    // Without batm-manage the restart cannot even start: the host would be left with the changed
    // configuration and the old service until a rollback, so it is refused before any change.
    preflight: {
      facts: { present: batmManagePresent },
      check: ({ present }) =>
        present ? undefined : `${BATM_MANAGE} is missing or not executable: ${checked} could not be restarted after the change`,
    },
  });
};
