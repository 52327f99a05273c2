// npm run demo [-- --hosts N]: the whole story on the local lab fleet, as an operator would type it:
// build the lab, apply Scenario A everywhere, switch the canary group to Scenario B, show the
// recap, check from outside what the firewalls really let through, and audit the fleet. The lab stays up to
// explore afterwards (casfleet lab down removes it).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const cli = fileURLToPath(new URL('../bin/casfleet.js', import.meta.url));
const { values } = parseArgs({ options: { hosts: { type: 'string', default: '6' } } });

const step = (title: string, args: string[]): void => {
  process.stdout.write(`\n\u001b[1m$ casfleet ${args.join(' ')}\u001b[22m   # ${title}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`demo: 'casfleet ${args.join(' ')}' exited ${result.status ?? result.signal}\n`);
    process.exit(result.status ?? 1);
  }
};

if (process.getuid?.() !== 0) {
  process.stderr.write('demo: the lab uses network namespaces: run as root\n');
  process.exit(1);
}
step('simulated CAS servers on this machine', ['lab', 'up', '--hosts', values.hosts]);
step('before: a clean install lets everything in', ['lab', 'probe']);
step('Scenario A on every server', ['apply', 'scenario-a']);
step('run it again: nothing changes', ['apply', 'scenario-a']);
step('switch the canary group to Scenario B (hardware VPN router)', [
  'apply',
  'scenario-b',
  '-l',
  'canary',
  '-e',
  'hardwareVpnSubnets=10.8.0.0/24',
]);
step('after: the view from the internet', ['lab', 'probe']);
step('after: the canary servers seen from the hardware VPN router', ['lab', 'probe', 'canary', '--from-vpn']);
step('the morning audit: scenario, exposure and drift of every server (read-only)', ['audit']);
process.stdout.write('\nThe lab is still up: try `casfleet apply scenario-a --check --diff -l canary`, then `casfleet lab down`.\n');
