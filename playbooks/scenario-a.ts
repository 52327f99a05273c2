// Scenario A (typical): terminals connect through CAS's built-in OpenVPN. The firewall follows the
// GB guide (src/cas/firewall-policy.ts). On a host that was in Scenario B this also switches it
// back: the terminal VPN ports open first (make-before-break), then /batm/config/vpn comes back
// from casfleet's backup, batm.vpn-skip is turned off, and gate restarts once.
import {
  definePlaybook,
  FLUSH_HANDLERS,
  fileRestored,
  firewallSteps,
  GATE_PROPERTIES,
  gateHandlers,
  propertiesKey,
  RESTART_GATE,
  scenarioAExposure,
  scenarioAIptablesRules,
  scenarioARules,
  scenarioAVarsSchema,
  VPN_FILE,
  VPN_SKIP_KEY,
} from 'casfleet';

export default definePlaybook({
  name: 'scenario-a',
  description: "Scenario A: CAS's built-in terminal VPN; GB firewall (SSH, admin VPN, terminal VPN open; 7741, 7777, 7743 closed)",
  vars: scenarioAVarsSchema,
  steps: (vars) => [
    ...firewallSteps(vars, { ufw: scenarioARules(vars), iptables: scenarioAIptablesRules(vars) }),
    // [C] Scenario A needs the VPN file gate distributes: restored from casfleet's backup when it is
    // missing; a host without the file and without a backup fails before anything changes.
    { ...fileRestored({ path: VPN_FILE }), notify: [RESTART_GATE] },
    // "vpn-skip removed or false": an absent key is compliant, a `true` becomes `false`.
    { ...propertiesKey({ file: GATE_PROPERTIES, key: VPN_SKIP_KEY, value: 'false', acceptAbsent: true }), notify: [RESTART_GATE] },
    FLUSH_HANDLERS,
  ],
  handlers: gateHandlers,
  exposure: scenarioAExposure,
});
