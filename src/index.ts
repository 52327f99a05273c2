// The playbook-authoring API, published as the package's main export: everything a playbook needs,
// in one import. The built-in playbooks use nothing else, so a user's variant of a scenario can be
// built from the same parts.
//   import { definePlaybook, ufwRuleSet, z } from 'casfleet';
export { z } from 'zod';
export { definePlaybook, type Playbook, type PlaybookExposure, type PlaybookItem } from './playbook/define-playbook.ts';
export { defineHandler, defineStep, FLUSH_HANDLERS, noChange, type Change, type Handler, type Step, type StepPlan } from './steps/step.ts';
export type { Fact } from './facts/fact.ts';
export { sh, raw, secret, quote, type RemoteCommand } from './command/shell.ts';
export { ufwRuleSet, type UfwRuleSetArgs } from './steps/ufw-rules.ts';
export { iptablesRuleSet, type IptablesRuleSetArgs } from './steps/iptables-rules.ts';
export { ufwDisabled } from './steps/ufw-disabled.ts';
export { iptablesRemoved } from './steps/iptables-removed.ts';
export { propertiesKey, type PropertiesKeyArgs } from './steps/properties.ts';
export { fileAbsent, type FileAbsentArgs } from './steps/file-absent.ts';
export { fileRestored, type FileRestoredArgs } from './steps/file-restored.ts';
export { restartBatmService } from './steps/batm-service.ts';
export { fileFact, type FileState } from './facts/file.ts';
export { ufwState } from './facts/ufw.ts';
export { kernelFirewall } from './facts/kernel-firewall.ts';
export { sshConnection } from './facts/ssh-connection.ts';
export { analyseKernel, type KernelTruth } from './steps/kernel-truth.ts';
export { batmInfo } from './facts/batm.ts';
export { cidr, casVarsSchema, scenarioAVarsSchema, scenarioBVarsSchema } from './cas/cas-vars.ts';
export { CAS_PORTS, scenarioARules, scenarioBRules, scenarioAIptablesRules, scenarioBIptablesRules, PORTS } from './cas/firewall-policy.ts';
export { firewallSteps } from './cas/firewall-steps.ts';
export { scenarioAExposure, scenarioBExposure } from './cas/exposure.ts';
export { GATE_PROPERTIES, VPN_SKIP_KEY, VPN_FILE, RESTART_GATE, gateHandlers } from './cas/gate-files.ts';
// A planner refuses with StepPlanError and a fact parser with FactError; any other exception they
// throw is reported as an internal error (a bug), not as the step's refusal.
export { FactError, StepPlanError } from './errors.ts';
// The kinds of `error: { kind, message }` in --json output and run records.
export { ERROR_KINDS, errorInfoSchema, type ErrorInfo, type ErrorKind } from './report/error-info.ts';
