// Network interfaces and the interface of the IPv4 default route. GB's firewall guide writes `eth0`
// ("Digital Ocean droplets routinely use eth0 … other hosts may vary"); the interface carrying the
// default route is the public one on a single-homed droplet [I], so rules "in on <public iface>" use it.
//
// Read from /proc/net/route and /sys/class/net with shell builtins only (no process spawned): it is
// the same table `ip route show default` prints (the main IPv4 table), without an `ip` exec.
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';

export interface NetworkState {
  /** Interface of the lowest-metric IPv4 default route; undefined when there is none. */
  readonly defaultRouteInterface?: string;
  /** Every interface in /sys/class/net, sorted. */
  readonly interfaces: readonly string[];
}

const FACT_ID = 'network.interfaces';

// /proc/net/route columns: Iface Destination Gateway Flags RefCnt Use Metric Mask …; the default
// route has Destination and Mask 00000000. The header line never matches.
const SCRIPT = `if [ -r /proc/net/route ]; then
  while read -r iface dest gw flags refcnt use metric mask rest; do
    if [ "$dest" = 00000000 ] && [ "$mask" = 00000000 ]; then echo "default $iface $metric"; fi
  done < /proc/net/route
fi
for i in /sys/class/net/*; do [ -e "$i" ] && echo "iface \${i##*/}"; done
echo end`;

const IFACE = /^[^\s/]{1,15}$/;

/** Parses the output of the network fact script. */
export const parseNetworkState = (output: string): NetworkState => {
  const interfaces: string[] = [];
  let best: { name: string; metric: number } | undefined;
  for (const line of factLines(FACT_ID, output)) {
    const [word, rest] = splitWord(line);
    if (word === 'iface' && IFACE.test(rest)) {
      interfaces.push(rest);
    } else if (word === 'default') {
      const match = /^(\S{1,15}) (\d+)$/.exec(rest);
      if (!match) throw new FactError(`${FACT_ID}: bad default route line "${line}"`);
      const metric = Number(match[2]);
      if (best === undefined || metric < best.metric) best = { name: match[1] ?? '', metric };
    } else {
      throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    }
  }
  interfaces.sort();
  return best === undefined ? { interfaces } : { defaultRouteInterface: best.name, interfaces };
};

/** Default-route interface and interface list. */
export const networkInterfaces: Fact<NetworkState> = { id: FACT_ID, script: SCRIPT, inline: true, parse: parseNetworkState };
