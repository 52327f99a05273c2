// Public API of the lab, for the CLI (`casfleet lab up|down|status`) and integration tests.

export { labUp, type LabInfo, type LabUpOptions } from './lab-up.ts';
export { labDown, type LabDownOptions, type LabDownReport } from './lab-down.ts';
export { labStatus, type LabHostStatus, type LabStatus, type LabStatusOptions } from './lab-status.ts';
export {
  ADMIN_BIND_IP,
  CONTROLLER_ADDRESS,
  DEFAULT_LAB_NAME,
  MASTER_BIND_IP,
  MAX_LAB_HOSTS,
  VPN_ROUTER_ADDRESS,
  VPN_ROUTER_SUBNET,
  controllerNetns,
  defaultLabDir,
  hostAddress,
  hostName,
  hostNetns,
  labHosts,
  labPaths,
  labRootDir,
  type LabHostLayout,
  type LabPaths,
} from './lab-layout.ts';
export { LAB_LISTENER_PORTS, LAB_UNUSED_PORT, type BatmService } from './lab-ports.ts';
export { probePort, probePorts, type PortProbeResult, type PortState, type ProbePortsOptions } from './probe.ts';
export { probeFromController, type ProbeFromControllerOptions } from './probe-from-controller.ts';
export { run, runInController, runInNetns, type RunOptions, type RunResult } from './lab-exec.ts';
export { runInHost, type RunInHostOptions } from './lab-host-exec.ts';
