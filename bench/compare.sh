#!/usr/bin/env bash
# Times `keycred new --no-pfx` against `openssl req -x509 -newkey rsa:2048 -nodes`, alternating one run of each
# so that machine noise (other load, frequency changes) falls on both alike, and prints the medians and their
# ratio. RSA key generation time varies a lot from key to key (prime search), so use many runs.
#
#   bench/compare.sh [RUNS]        (default 101 runs of each)
#
# Needs openssl and bash 5 ($EPOCHREALTIME). Builds keycred in release mode first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-101}"

cargo build --release --quiet
keycred="$PWD/target/release/keycred"
command -v openssl >/dev/null || { echo "compare.sh: openssl is not installed" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now_us() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t))"; }

k_times=()
o_times=()
for ((i = 0; i < runs; i++)); do
  start="$(now_us)"
  "$keycred" new --subject "CN=Bench Daemon" --out "$work" --name k --no-pfx --force >/dev/null
  k_times+=("$(( $(now_us) - start ))")

  start="$(now_us)"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/o.key" -out "$work/o.pem" \
    -subj "/CN=Bench Daemon" -days 365 >/dev/null 2>&1
  o_times+=("$(( $(now_us) - start ))")
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
k_median="$(median "${k_times[@]}")"
o_median="$(median "${o_times[@]}")"

echo "runs each:            $runs (alternating)"
printf 'keycred new --no-pfx: median %.1f ms\n' "$(echo "$k_median / 1000" | bc -l)"
printf 'openssl req -x509:    median %.1f ms\n' "$(echo "$o_median / 1000" | bc -l)"
printf 'ratio keycred/openssl: %.2f (target: at most 0.50)\n' "$(echo "$k_median / $o_median" | bc -l)"
