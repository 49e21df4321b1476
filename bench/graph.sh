#!/usr/bin/env bash
# The tenant scan and a rotation plan against the Graph test server on 127.0.0.1 (tests/oidc/graph.mjs, with
# tokens from tests/oidc/server.mjs): `keycred graph apps` and `keycred graph rotate --all` (plan only) over a
# small and a large tenant, wall time and peak RSS. The scan reads pages of up to 999 and keeps a summary per
# app, so memory should stay near flat from the small tenant to the large one.
#
#   bench/graph.sh [SMALL] [LARGE]     (default 500 and 5000 apps)
#
# Needs node with `npm ci --prefix tests/oidc` done, python3, bash 5 ($EPOCHREALTIME), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
small="${1:-500}"
large="${2:-5000}"
cargo build --release --quiet
keycred="$PWD/target/release/keycred"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

tenant=72f988bf-86f1-41af-91ab-2d7cd011db47
client=a0a0a0a0-1111-4222-8333-444455556666
"$keycred" new --subject "CN=Bench Automation" --out "$work" --name automation --no-pfx > /dev/null

# The OAuth server: tokens for the Graph URL, Application.ReadWrite.All.
GRAPH_ROLES=Application.ReadWrite.All node tests/oidc/server.mjs "$tenant" "$client" "$work/automation.pem" \
  99999999-8888-4777-8666-555555555555 unused > "$work/oidc.out" 2>/dev/null &
pids+=("$!")
for _ in $(seq 100); do grep -q listening "$work/oidc.out" 2>/dev/null && break; sleep 0.1; done
oidc="http://127.0.0.1:$(awk '{print $2}' "$work/oidc.out")"

now_ms() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t / 1000))"; }

measure() { # measure COUNT -> prints "scan_ms scan_kib plan_ms plan_kib"
  local count="$1" dir="$work/t$1"
  mkdir -p "$dir"
  python3 - "$dir/seed.json" "$count" "$(base64 -w0 tests/fixtures/openssl-rsa.cer)" <<'PY'
import json, sys, datetime
path, count, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
now = datetime.datetime.now(datetime.timezone.utc)
at = lambda days: (now + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
apps = [{"id": f"10000000-0000-4000-8000-{i:012}", "appId": f"20000000-0000-4000-8000-{i:012}",
         "displayName": f"App {i}",
         "keyCredentials": [{"key": key, "keyId": f"00000000-0000-4000-8000-{i:012}",
                             "startDateTime": at(-300), "endDateTime": at(300 if i % 10 else 10)}]}
        for i in range(count)]
json.dump(apps, open(path, "w"))
PY
  node tests/oidc/graph.mjs "$oidc/$tenant/discovery/v2.0/keys" "$tenant" "$dir/seed.json" > "$dir/graph.out" 2>/dev/null &
  local graph_pid="$!" # measure runs in a subshell: stop this server here, not in cleanup
  for _ in $(seq 100); do grep -q listening "$dir/graph.out" 2>/dev/null && break; sleep 0.1; done
  local graph="http://127.0.0.1:$(awk '{print $2}' "$dir/graph.out")"
  local connect=(--graph-url "$graph" --authority "$oidc" --tenant "$tenant" --client-id "$client"
                 --cert "$work/automation.pem" --key "$work/automation.key")
  local start end scan_ms plan_ms
  start="$(now_ms)"
  /usr/bin/time -f '%M' -o "$dir/scan.rss" "$keycred" graph apps "${connect[@]}" --json > /dev/null || true
  end="$(now_ms)"; scan_ms=$((end - start))
  start="$(now_ms)"
  /usr/bin/time -f '%M' -o "$dir/plan.rss" "$keycred" graph rotate --all "${connect[@]}" --no-pfx \
    --out "$dir/certs" --json > /dev/null 2>&1
  end="$(now_ms)"; plan_ms=$((end - start))
  kill "$graph_pid" 2>/dev/null || true
  echo "$scan_ms $(tail -n1 "$dir/scan.rss") $plan_ms $(tail -n1 "$dir/plan.rss")"
}

read -r s_ms s_kib p_ms p_kib <<< "$(measure "$small")"
read -r l_ms l_kib lp_ms lp_kib <<< "$(measure "$large")"
printf 'graph apps, %5d apps: %6d ms, peak RSS %6d KiB\n' "$small" "$s_ms" "$s_kib"
printf 'graph apps, %5d apps: %6d ms, peak RSS %6d KiB (RSS ratio %.2f)\n' "$large" "$l_ms" "$l_kib" \
  "$(echo "$l_kib / $s_kib" | bc -l)"
printf 'graph rotate --all (plan), %5d apps: %6d ms, peak RSS %6d KiB\n' "$small" "$p_ms" "$p_kib"
printf 'graph rotate --all (plan), %5d apps: %6d ms, peak RSS %6d KiB (RSS ratio %.2f)\n' "$large" "$lp_ms" \
  "$lp_kib" "$(echo "$lp_kib / $p_kib" | bc -l)"
