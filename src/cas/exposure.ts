// What a CAS server must look like from the machine running casfleet once a scenario is applied,
// for the rollout gates. Only ports whose answer does not depend on the prober's own address are
// listed: a port opened for specific sources (sshAllowFrom, adminAllowFrom, extensions.allowFrom,
// hardwareVpnSubnets) may or may not include this machine, so it is not checked. "Reachable" means
// the firewall lets it through: an answer of any kind, even a refusal when nothing listens yet.

import type { ExposureContext, PlaybookExposure } from '../playbook/define-playbook.ts';
import type { CasVars, CommonVars, ScenarioBVars } from './cas-vars.ts';
import { PORTS } from './firewall-policy.ts';

const [adminVpnLow] = PORTS.adminVpn;
const [terminalVpnLow] = PORTS.terminalVpnInstances;

// SSH is probed on the port this machine connects to: without sshPort the firewall keeps exactly
// that port (as the host sees it), so the two agree.
const commonExposure = (vars: CommonVars, context: ExposureContext): { reachable: number[]; blocked: number[] } => {
  const reachable = [adminVpnLow];
  const blocked: number[] = [];
  if (!vars.sshAllowFrom) reachable.unshift(vars.sshPort ?? context.sshPort);
  if (vars.adminGui === 'open') reachable.push(PORTS.adminGui);
  else if (!vars.adminAllowFrom) blocked.push(PORTS.adminGui);
  if (vars.extensions === false) blocked.push(PORTS.extensions);
  else if (!vars.extensions.allowFrom) reachable.push(PORTS.extensions);
  if (vars.proxy) reachable.push(PORTS.proxy);
  return { reachable, blocked };
};

export const scenarioAExposure = (vars: CasVars, context: ExposureContext): PlaybookExposure => {
  const { reachable, blocked } = commonExposure(vars, context);
  reachable.push(PORTS.terminalVpn, terminalVpnLow);
  (vars.pairing ? reachable : blocked).push(PORTS.gate);
  return { reachable, blocked };
};

/** 7741 is expected filtered: the machine running casfleet is not the hardware VPN router. */
export const scenarioBExposure = (vars: ScenarioBVars, context: ExposureContext): PlaybookExposure => {
  const { reachable, blocked } = commonExposure(vars, context);
  blocked.push(PORTS.gate, PORTS.terminalVpn, terminalVpnLow);
  return { reachable, blocked };
};
