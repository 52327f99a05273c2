// The playbook-authoring API: everything a playbook in playbooks/ (or anywhere) needs, in one import.
//   import { definePlaybook, ufwRuleSet, z } from '../src/index.ts';
export { z } from 'zod';
export { definePlaybook, type Playbook, type PlaybookItem } from './playbook/define-playbook.ts';
export { defineHandler, defineStep, FLUSH_HANDLERS, noChange, type Change, type Handler, type Step, type StepPlan } from './steps/step.ts';
export type { Fact } from './facts/fact.ts';
export { sh, raw, secret, quote, type RemoteCommand } from './command/shell.ts';
export { ufwRuleSet, type UfwRuleSetArgs } from './steps/ufw-rules.ts';
export { propertiesKey, type PropertiesKeyArgs } from './steps/properties.ts';
export { fileAbsent, type FileAbsentArgs } from './steps/file-absent.ts';
export { fileRestored, type FileRestoredArgs } from './steps/file-restored.ts';
export { restartBatmService } from './steps/batm-service.ts';
export { fileFact, type FileState } from './facts/file.ts';
export { ufwState } from './facts/ufw.ts';
export { batmInfo } from './facts/batm.ts';
export { cidr, casVarsSchema, scenarioAVarsSchema, scenarioBVarsSchema } from './cas/cas-vars.ts';
export { scenarioARules, scenarioBRules, PORTS } from './cas/firewall-policy.ts';
