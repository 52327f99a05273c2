#!/bin/sh
# casfleet lab: turn a fresh process into one simulated CAS host's sshd. Run as
#   ip netns exec <host netns> unshare --mount --propagation slave sh host-start.sh <lab dir> <mount root> <host id>
# The network namespace is configured already; this builds the host's private filesystem view
# (bind mounts visible only in this mount namespace) and then execs sshd, so the PID that
# `lab up` recorded becomes the sshd PID, and every ssh session inherits this view.
set -eu

lab=$1
root=$2
id=$3
host=$root/hosts/$id

# Record our PID (sshd's PID after the exec) ourselves: if `lab up` dies inside spawn(), before it
# could write this file, `lab down` still finds this process.
echo $$ >"$lab/hosts/$id/sshd.pid"

# A new mount namespace is a copy of the parent's, including the /run/netns/* bind mounts of every
# namespace on the machine (other hosts, other labs). Holding them would keep those namespaces
# alive after `ip netns del`, and new `ip netns add` mounts would keep propagating in. Detach all.
# Detaching /run/netns takes its whole subtree in one call; the loop covers systems where
# /run/netns is a plain directory (then each namespace file is its own mount).
if mountpoint -q /run/netns; then umount -l /run/netns; fi
awk 'index($5, "/run/netns/") == 1 { print $5 }' /proc/self/mountinfo |
  while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null || true; done

# ufw takes its lock in /run, sshd needs /run/sshd: a private /run keeps hosts from sharing either.
mount -t tmpfs -o mode=0755,size=16m casfleet-lab-run /run
mkdir -p /run/sshd /run/lock "$root"
chmod 0755 /run/sshd

# Everything below is addressed through $root, because /root or /tmp may hide the real lab dir
# once they are covered.
mount --bind "$lab" "$root"
# /etc as an overlay: the host reads the real /etc but writes only to its own upper dir, so edits
# (atomic renames included, e.g. of /etc/default/ufw, pre-seeded there) stay on this host and never
# touch the machine's /etc. Its own pristine /etc/ufw is bound on top.
mount -t overlay -o "lowerdir=/etc,upperdir=$host/etc-upper,workdir=$host/etc-work" casfleet-lab-etc /etc
mount --bind "$host/etc-ufw" /etc/ufw
# The iptables backend's rule files: private and empty, whatever the machine keeps in /etc/iptables.
mkdir -p /etc/iptables
mount --bind "$host/etc-iptables" /etc/iptables
# /var/lib the same way: casfleet's on-host timers (/var/lib/casfleet) are per host, like on real servers.
mount -t overlay -o "lowerdir=/var/lib,upperdir=$host/var-lib-upper,workdir=$host/var-lib-work" casfleet-lab-varlib /var/lib
mount --bind "$root/shadow" /etc/shadow
mount -o remount,bind,ro /etc/shadow
mount --bind "$host/batm" /batm
mount --bind "$host/var-log" /var/log
# casfleet's backups (/var/backups/casfleet) must never mix hosts; lab up checks /var/backups exists.
mount --bind "$host/var-backups" /var/backups
mount --bind "$host/tmp" /tmp
mount --bind "$host/root" /root

exec /usr/sbin/sshd -D -f "$host/sshd_config" -E "$host/sshd.log"
