// The CAS files and handler both scenarios manage ([C] GB Scenario page): Scenario B turns
// `batm.vpn-skip` on and removes the terminal-VPN file, Scenario A undoes both; either way gate
// restarts once to pick the change up.
import { restartBatmService } from '../steps/batm-service.ts';
import type { Handler } from '../steps/step.ts';

export const GATE_PROPERTIES = '/batm/config/gate.properties';
export const VPN_SKIP_KEY = 'batm.vpn-skip';
export const VPN_FILE = '/batm/config/vpn';

export const RESTART_GATE = 'restart gate';

export const gateHandlers = (): Readonly<Record<string, Handler>> => ({ [RESTART_GATE]: restartBatmService('gate') });
