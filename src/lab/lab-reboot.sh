#!/bin/sh
# casfleet lab: what a reboot does to one lab host's firewall, run inside the host's network and
# mount namespaces (`casfleet lab reboot`). A real reboot starts from an empty netfilter and then
# runs the boot units that load a firewall; the lab has no systemd, so this reads which of those
# units the host has enabled (a symlink in a *.wants directory of /etc/systemd/system, which is
# what `systemctl enable` leaves) and runs their ExecStart= commands (all of them are ordered
# before network-pre.target, with no order among themselves; the lab takes them alphabetically). Then CAS starts and loads its terminal-VPN rules ([C] TVPN: "loaded automatically when
# the server restarts"). Output, one line each: `reset <family>`, `boot <unit> <exit> <command>`,
# `unit-missing <unit>`, `cas <exit> <command>`, and the output of (or a note on) what ran, prefixed with `| `.
set -u
PATH="$PATH:/usr/sbin:/sbin"

# 1. Boot state: every table of every family and frontend empty, every policy ACCEPT. The restore
#    input keeps each table's built-in chains with an ACCEPT policy and nothing else; a restore
#    without --noflush flushes those tables and deletes their user chains.
for tool in iptables ip6tables iptables-legacy ip6tables-legacy; do
  command -v "$tool-save" >/dev/null 2>&1 || continue
  empty=$("$tool-save" 2>/dev/null | sed -n -e '/^\*/p' -e 's/^:\([^ ]*\) [A-Z]\{1,\} .*/:\1 ACCEPT [0:0]/p' -e '/^COMMIT/p')
  [ -z "$empty" ] || { printf '%s\n' "$empty" | "$tool-restore" && echo "reset $tool"; }
done
if command -v nft >/dev/null 2>&1; then nft flush ruleset && echo 'reset nft'; fi

# 2. The firewall units the host has enabled.
run() {
  label=$1
  shift
  out=$(sh -c "$*" 2>&1 </dev/null)
  rc=$?
  echo "$label $rc $*"
  [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/| /'
}
for unit in casfleet-iptables.service netfilter-persistent.service ufw.service; do
  enabled=
  for link in /etc/systemd/system/*.wants/"$unit"; do [ -L "$link" ] || [ -e "$link" ] && enabled=yes; done
  [ -n "$enabled" ] || continue
  file=
  for dir in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
    [ -z "$file" ] && [ -f "$dir/$unit" ] && file=$dir/$unit
  done
  if [ -z "$file" ]; then echo "unit-missing $unit"; continue; fi
  # systemd's prefixes (- ignore failure, @ argv0, + ! privileges, : no substitution) change nothing here.
  sed -n 's/^ExecStart=[-@+!:]*//p' "$file" | while IFS= read -r command; do run "boot $unit" "$command"; done
  # ufw's unit stays enabled on Ubuntu; ufw-init itself loads nothing unless ufw.conf says ENABLED=yes.
  if [ "$unit" = ufw.service ] && ! grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf; then echo '| (ufw.conf: ENABLED=no, so ufw loaded nothing)'; fi
done

# 3. CAS starts and re-applies its terminal-VPN rules.
if [ -f /batm/vpngen/firewall.rules ]; then run cas '. /batm/vpngen/firewall.rules'; fi
