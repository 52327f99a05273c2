// The playbook-authoring API, published as the package's main export: everything a playbook needs,
// in one import. The built-in playbooks use nothing else, so a user's variant of a scenario can be
// built from the same parts.
//   import { definePlaybook, ufwRuleSet, z } from 'casfleet';
export { z } from 'zod';
export { casVarsSchema, cidr, scenarioAVarsSchema, scenarioBVarsSchema } from './cas/cas-vars.ts';
export { scenarioAExposure, scenarioBExposure } from './cas/exposure.ts';
export { CAS_PORTS, PORTS, scenarioAIptablesRules, scenarioARules, scenarioBIptablesRules, scenarioBRules } from './cas/firewall-policy.ts';
export { firewallSteps } from './cas/firewall-steps.ts';
export { GATE_PROPERTIES, gateHandlers, RESTART_GATE, VPN_FILE, VPN_SKIP_KEY } from './cas/gate-files.ts';
export { quote, type RemoteCommand, raw, secret, sh } from './command/shell.ts';
export { type ChangeStdin, IN_FRAME, partRef, type StdinParts } from './command/stdin-parts.ts';
// A planner refuses with StepPlanError and a fact parser with FactError; any other exception they
// throw is reported as an internal error (a bug), not as the step's refusal.
export { FactError, StepPlanError } from './errors.ts';
export { batmInfo } from './facts/batm.ts';
export type { Fact } from './facts/fact.ts';
export { type FileState, fileFact } from './facts/file.ts';
export { kernelFirewall } from './facts/kernel-firewall.ts';
export { sshConnection } from './facts/ssh-connection.ts';
export { ufwState } from './facts/ufw.ts';
export { definePlaybook, type Playbook, type PlaybookExposure, type PlaybookItem } from './playbook/define-playbook.ts';
// The kinds of `error: { kind, message }` in --json output and run records.
export { ERROR_KINDS, type ErrorInfo, type ErrorKind, errorInfoSchema } from './report/error-info.ts';
export { restartBatmService } from './steps/batm-service.ts';
export { type FileAbsentArgs, fileAbsent } from './steps/file-absent.ts';
export { type FileRestoredArgs, fileRestored } from './steps/file-restored.ts';
export { iptablesRemoved } from './steps/iptables-removed.ts';
export { type IptablesRuleSetArgs, iptablesRuleSet } from './steps/iptables-rules.ts';
export { analyseKernel, type KernelTruth } from './steps/kernel-truth.ts';
export { type PropertiesKeyArgs, propertiesKey } from './steps/properties.ts';
export {
  type Change,
  defineHandler,
  defineStep,
  FLUSH_HANDLERS,
  type Handler,
  type HandlerPreflight,
  noChange,
  type Step,
  type StepPlan,
} from './steps/step.ts';
export { ufwDisabled } from './steps/ufw-disabled.ts';
export { type UfwRuleSetArgs, ufwRuleSet } from './steps/ufw-rules.ts';
