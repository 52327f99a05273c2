// Scenario B: terminals come through a hardware VPN router, CAS distributes no VPN. Order from the
// GB Scenario page (the order itself is our inference [I]): vpn-skip on, VPN file backed up and removed,
// gate restarted once (handlers flushed here, checked with `batm-manage info`), and only then the
// firewall tightened: 7741 from the router's networks only, terminal VPN ports closed.
import {
  definePlaybook,
  FLUSH_HANDLERS,
  fileAbsent,
  firewallSteps,
  GATE_PROPERTIES,
  gateHandlers,
  propertiesKey,
  RESTART_GATE,
  scenarioBExposure,
  scenarioBIptablesRules,
  scenarioBRules,
  scenarioBVarsSchema,
  VPN_FILE,
  VPN_SKIP_KEY,
} from 'casfleet';

export default definePlaybook({
  name: 'scenario-b',
  description: 'Scenario B: terminals via a hardware VPN router; vpn-skip on, VPN file removed, 7741 only from hardwareVpnSubnets',
  vars: scenarioBVarsSchema,
  steps: (vars) => [
    { ...propertiesKey({ file: GATE_PROPERTIES, key: VPN_SKIP_KEY, value: 'true' }), notify: [RESTART_GATE] },
    // Backed up first: switching back to Scenario A restores it.
    { ...fileAbsent({ path: VPN_FILE, backup: true }), notify: [RESTART_GATE] },
    FLUSH_HANDLERS,
    ...firewallSteps(vars, { ufw: scenarioBRules(vars), iptables: scenarioBIptablesRules(vars) }),
  ],
  handlers: gateHandlers,
  exposure: scenarioBExposure,
});
