#!/usr/bin/env bash
# Batch throughput and memory: provisions N apps (no PFX, so key generation dominates) with --jobs 1 and
# --jobs 2, and measures peak RSS for 10 and 1000 apps. Targets (issue #4): --jobs 2 at least 1.7x the
# throughput of --jobs 1 on two cores; peak RSS for 1000 apps within 2x of 10 apps.
#
#   bench/batch.sh [APPS]     (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
apps="${1:-200}"
cargo build --release --quiet
keycred="$PWD/target/release/keycred"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

plan() { # plan FILE COUNT
  printf '[defaults]\nout = "certs"\nno_pfx = true\n' > "$1"
  for ((i = 0; i < $2; i++)); do printf '\n[[app]]\nname = "app%d"\nsubject = "CN=Bench App %d"\n' "$i" "$i" >> "$1"; done
}
now_ms() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t / 1000))"; }

run() { # run COUNT JOBS -> prints "ms kib"
  local dir="$work/run-$1-$2"
  mkdir -p "$dir"
  plan "$dir/plan.toml" "$1"
  local start end
  start="$(now_ms)"
  /usr/bin/time -f '%M' -o "$dir/rss" "$keycred" batch "$dir/plan.toml" --jobs "$2" > /dev/null 2>&1
  end="$(now_ms)"
  echo "$((end - start)) $(cat "$dir/rss")"
}

read -r t1 _ <<< "$(run "$apps" 1)"
read -r t2 _ <<< "$(run "$apps" 2)"
read -r _ rss_small <<< "$(run 10 2)"
read -r _ rss_large <<< "$(run 1000 2)"
echo "apps: $apps"
printf -- '--jobs 1: %d ms (%.1f apps/s)\n' "$t1" "$(echo "$apps * 1000 / $t1" | bc -l)"
printf -- '--jobs 2: %d ms (%.1f apps/s)\n' "$t2" "$(echo "$apps * 1000 / $t2" | bc -l)"
printf 'throughput ratio --jobs 2 / --jobs 1: %.2f (target at least 1.70)\n' "$(echo "$t1 / $t2" | bc -l)"
printf 'peak RSS: 10 apps %d KiB, 1000 apps %d KiB, ratio %.2f (target at most 2.00)\n' \
  "$rss_small" "$rss_large" "$(echo "$rss_large / $rss_small" | bc -l)"
