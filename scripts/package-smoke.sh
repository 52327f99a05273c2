#!/usr/bin/env bash
# The package as a user gets it (npm run test:package; CI runs it after the test suite, as root):
# npm pack, install the tarball globally into a temporary prefix, then from outside any clone
# bring up a 2-host lab, apply scenario-a to it, scenario-b to one host, the starter project's
# TypeScript playbook (casfleet init), and take the lab down. The tarball's dependencies come from
# the npm cache that `npm ci` filled (--prefer-offline); npm still reads their registry metadata,
# which `npm ci` does not cache, once per machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/casfleet-package.XXXXXX")
lab="pkg$$"
casfleet="$work/prefix/bin/casfleet"
export CASFLEET_LAB_DIR="$work/labs" CASFLEET_STATE_DIR="$work/state"

cleanup() {
  if [[ -x $casfleet && -d $CASFLEET_LAB_DIR/$lab ]]; then "$casfleet" lab down --name "$lab" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n== %s\n' "$*"; }

step "npm pack (builds dist/ through prepare)"
started=$(now)
(cd "$root" && npm pack --pack-destination "$work" --silent >/dev/null)
packed=$(now)
cd "$work"
tarball=$(ls casfleet-*.tgz)
echo "$tarball: $(du -k "$tarball" | cut -f1) kB, $(tar tzf "$tarball" | wc -l) files"

step "npm install -g --prefix <tmp> ./$tarball"
npm install -g --prefix "$work/prefix" --prefer-offline --no-audit --no-fund --loglevel=error "./$tarball"
installed=$(now)
package="$work/prefix/lib/node_modules/casfleet"
[[ ! -e $package/node_modules/typescript && ! -e $package/src ]] || { echo "the installed package carries TypeScript sources or the compiler" >&2; exit 1; }

mkdir "$work/outside" && cd "$work/outside"
step "casfleet --help, playbooks (from $PWD)"
"$casfleet" --help | head -n 1
"$casfleet" playbooks

step "casfleet lab up --name $lab --hosts 2 && casfleet apply scenario-a -i <lab inventory> && casfleet lab down --name $lab"
inventory="$CASFLEET_LAB_DIR/$lab/inventory.yml"
"$casfleet" lab up --name "$lab" --hosts 2
"$casfleet" apply scenario-a -i "$inventory"
applied=$(now)

step "the other built-in, scenario-b, on one host"
"$casfleet" apply scenario-b -i "$inventory" -l cas-002 -e hardwareVpnSubnets=10.8.0.0/24

step "casfleet init, then its TypeScript playbook on the lab; completion"
"$casfleet" init project >/dev/null
(cd project && "$casfleet" apply playbooks/gate-slots.ts -i "$inventory" -e slots=40)
"$casfleet" completion bash | bash -n
"$casfleet" lab down --name "$lab"

step "timings"
echo "npm pack:                          $(seconds "$started" "$packed") s"
echo "install:                           $(seconds "$packed" "$installed") s"
echo "install to first apply done:       $(seconds "$packed" "$applied") s (install, lab up, apply scenario-a)"
echo "total:                             $(seconds "$started" "$(now)") s"
echo "package test passed"
