// What a host offers the iptables backend: the iptables programs (and where they live, for the boot
// unit), whether it was booted with systemd (a new unit needs `systemctl daemon-reload`), and
// whether CAS's /batm/vpngen/firewall.rules exists (re-sourced after a load). The live tables, and
// whether the kernel has IPv6, are the kernel firewall fact's. Shell builtins only: no process is spawned.

import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord, yesNo } from './fact-output.ts';
import { walkPath } from './path-walk.ts';

export type IptablesTool = 'iptables-save' | 'iptables-restore' | 'ip6tables-save' | 'ip6tables-restore';

const TOOLS: readonly IptablesTool[] = ['iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore'];

export interface IptablesHost {
  /** Absolute path of each tool found on the PATH (plus the sbin directories). */
  readonly tools: Readonly<Partial<Record<IptablesTool, string>>>;
  /** Booted with systemd as init (/run/systemd/system exists, sd_booted's test). */
  readonly systemd: boolean;
  readonly vpngenRules: boolean;
}

const FACT_ID = 'iptables.host';

// Each tool is the first executable regular file of its name on the PATH, as `command -v` finds it.
const SCRIPT = `PATH="$PATH:/usr/sbin:/sbin"
for tool in ${TOOLS.join(' ')}; do
  ${walkPath(`if [ -f "\${d:-.}/$tool" ] && [ -x "\${d:-.}/$tool" ]; then printf 'tool %s %s\\n' "$tool" "\${d:-.}/$tool"; break; fi`)}
done
if [ -d /run/systemd/system ]; then echo 'systemd yes'; else echo 'systemd no'; fi
if [ -f /batm/vpngen/firewall.rules ]; then echo 'vpngen-rules yes'; else echo 'vpngen-rules no'; fi
echo end`;

/** Parses the output of the iptables host fact script. */
export const parseIptablesHost = (output: string): IptablesHost => {
  const tools: Partial<Record<IptablesTool, string>> = {};
  const flags = new Map<string, string>();
  for (const line of factLines(FACT_ID, output)) {
    const [word, rest] = splitWord(line);
    if (word === 'tool') {
      const [tool, path] = splitWord(rest);
      if (!TOOLS.includes(tool as IptablesTool) || !path.startsWith('/')) throw new FactError(`${FACT_ID}: bad tool line "${line}"`);
      tools[tool as IptablesTool] = path;
    } else if (['systemd', 'vpngen-rules'].includes(word)) {
      flags.set(word, rest);
    } else {
      throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    }
  }
  return {
    tools,
    systemd: yesNo(FACT_ID, flags, 'systemd'),
    vpngenRules: yesNo(FACT_ID, flags, 'vpngen-rules'),
  };
};

/** The iptables programs, systemd and CAS's rules file on a host. */
export const iptablesHost: Fact<IptablesHost> = { id: FACT_ID, script: SCRIPT, inline: true, parse: parseIptablesHost };
