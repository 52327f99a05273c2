// Make-before-break between the two firewall backends: a host switches from ufw to iptables (or
// back) with the new backend filtering BEFORE the old one stops, so at no moment is SSH or the
// terminal VPN closed, and at no moment is 7741/7777 open. Each backend's step loads its own rules
// next to the other's (the managed chain sits first in INPUT; ufw only ever adds and removes its own
// chains), and only then does the step after it stop the old backend. That order is checked twice:
// by the playbook's step order, and on the host right before the old backend stops (a shell guard
// that refuses, exit 3, unless the new backend's rules are in the kernel), because a plan read before
// the earlier step ran cannot know.
import { type RemoteCommand, raw, sh } from '../command/shell.ts';
import { JUMP_SPEC, MANAGED_CHAIN } from './iptables-chain.ts';

/** Refuses unless every usable iptables family jumps to the managed chain (run before stopping ufw). */
export const managedChainLoadedGuard = (): RemoteCommand => sh`PATH="$PATH:/usr/sbin:/sbin"
for t in iptables ip6tables; do
  command -v $t >/dev/null 2>&1 && $t -w -S INPUT >/dev/null 2>&1 || continue
  if ! $t -w -C INPUT ${raw(JUMP_SPEC)} 2>/dev/null || [ "$($t -w -S ${MANAGED_CHAIN} 2>/dev/null | wc -l)" -lt 2 ]; then
    echo "casfleet: $t has no loaded ${MANAGED_CHAIN} with its INPUT jump: refusing to stop the other firewall" >&2
    exit 3
  fi
done`;

/**
 * Refuses unless ufw filters in the kernel (run before removing the managed chain): its user chain
 * in iptables, and in ip6tables either its user chain or, with ufw's IPv6 off, its DROP policy.
 */
export const ufwLoadedGuard = (): RemoteCommand => sh`PATH="$PATH:/usr/sbin:/sbin"
if ! iptables -w -S ufw-user-input >/dev/null 2>&1; then
  echo 'casfleet: ufw is not loaded in iptables (no ufw-user-input chain): refusing to remove ${raw(MANAGED_CHAIN)}' >&2
  exit 3
fi
if command -v ip6tables >/dev/null 2>&1 && ip6tables -w -S INPUT >/dev/null 2>&1 &&
  ! ip6tables -w -S ufw6-user-input >/dev/null 2>&1 && ! ip6tables -w -S INPUT | grep -qx -- '-P INPUT DROP'; then
  echo 'casfleet: ufw is not loaded in ip6tables: refusing to remove ${raw(MANAGED_CHAIN)}' >&2
  exit 3
fi`;
