// The IPv4 addresses on every interface, from `ip -o -4 addr show` (one process, ~3 ms). The audit
// needs them to find CAS's VPN-side address when /batm/config/network does not name it: CAS binds
// master on a private address that lives on a local device (a TUN device in the lab), not on the
// interface of the default route [I] (research/cas-domain.md §1.3).
import { FactError } from '../errors.ts';
import type { Fact } from './fact.ts';
import { factLines, splitWord } from './fact-output.ts';

export interface InterfaceAddress {
  readonly interface: string;
  /** `10.3.2.1` (without the prefix length). */
  readonly address: string;
  readonly prefixLength: number;
}

const FACT_ID = 'network.addresses';

// `ip -o` prints one line per address: `4: batm0    inet 10.3.2.1/32 scope global batm0\ …`.
// Only the interface and the address are kept; each line is prefixed so nothing else can look like one.
const SCRIPT = `(
PATH="$PATH:/usr/sbin:/sbin"
if command -v ip >/dev/null 2>&1; then
  ip -o -4 addr show 2>/dev/null | while read -r index iface family address rest; do echo "addr $iface $address"; done
fi
echo end
)`;

const LINE = /^(\S{1,15}) (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;

/** Parses the output of the addresses fact script. */
export const parseInterfaceAddresses = (output: string): readonly InterfaceAddress[] =>
  factLines(FACT_ID, output).map((line) => {
    const [word, rest] = splitWord(line);
    const match = LINE.exec(rest);
    if (word !== 'addr' || !match) throw new FactError(`${FACT_ID}: unexpected line "${line}"`);
    return { interface: match[1] ?? '', address: match[2] ?? '', prefixLength: Number(match[3]) };
  });

/** Every IPv4 address of the host with its interface. */
export const interfaceAddresses: Fact<readonly InterfaceAddress[]> = { id: FACT_ID, script: SCRIPT, parse: parseInterfaceAddresses };
