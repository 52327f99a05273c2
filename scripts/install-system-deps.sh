#!/usr/bin/env bash
# System packages casfleet and its lab need on Debian/Ubuntu (run as root). Idempotent: installs
# only what is missing, so it is cheap on a machine that has everything. Packages given as arguments
# are installed too (CI adds the shells the completion tests run).
set -euo pipefail
# chromium: the headless browser the HTML audit report is tested in; zsh and fish: shell completion
# is tested in each shell it supports, and the lab tests hosts whose login shell is zsh or fish;
# strace: a test counts the forks of the remote scripts' shell forms.
# Callers may add packages.
packages=(openssh-server openssh-client ufw iptables iproute2 sudo python3 chromium zsh fish strace "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# A package install may start sshd on the machine itself; the lab runs its own sshd per host.
if ! command -v node >/dev/null 2>&1; then
  echo "Node.js >= 20.19 is required (e.g. apt-get install nodejs npm, or your usual Node install)" >&2
  exit 1
fi
