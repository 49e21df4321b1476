#!/usr/bin/env bash
# Times `keycred assertion` against `keycred thumbprint` on the same PFX, alternating one run of each, and prints
# the medians and their ratio (target: the assertion costs at most 1.5x the thumbprint: reading the PFX is
# shared, the one extra piece of work is one RSA signature). Then times `token --cache` hits against the
# thumbprint: after one real request, every run goes to an authority where nothing listens, and still answers
# from the cache (no connection, no signature).
#
#   bench/assertion.sh [RUNS]      (default 101 runs of each)
#
# Needs bash 5 ($EPOCHREALTIME) and python3 (a one-request token endpoint on 127.0.0.1). Builds in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-101}"

cargo build --release --quiet
keycred="$PWD/target/release/keycred"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$keycred" new --subject "CN=Bench Daemon" --out "$work" --name b --generate-password >/dev/null
pfx="$work/b.pfx"
pw="$work/b.pfx.password"

now_us() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t))"; }
a_times=()
t_times=()
for ((i = 0; i < runs; i++)); do
  start="$(now_us)"
  "$keycred" assertion --tenant contoso.onmicrosoft.com --client-id 11111111-2222-3333-4444-555555555555 \
    --pfx "$pfx" --password-file "$pw" >/dev/null
  a_times+=("$(( $(now_us) - start ))")
  start="$(now_us)"
  "$keycred" thumbprint "$pfx" --password-file "$pw" >/dev/null
  t_times+=("$(( $(now_us) - start ))")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
a_median="$(median "${a_times[@]}")"
t_median="$(median "${t_times[@]}")"
echo "runs each:            $runs (alternating)"
printf 'keycred assertion:    median %.1f ms\n' "$(echo "$a_median / 1000" | bc -l)"
printf 'keycred thumbprint:   median %.1f ms\n' "$(echo "$t_median / 1000" | bc -l)"
printf 'ratio assertion/thumbprint: %.2f (target: at most 1.50)\n' "$(echo "$a_median / $t_median" | bc -l)"

# token --cache: one real request to a one-shot local endpoint, then a hit with nothing listening at all.
port_file="$work/port"
python3 - "$port_file" <<'PY' &
import json, socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.recv(65536)
body = json.dumps({"access_token": "bench-token", "token_type": "Bearer", "expires_in": 3600}).encode()
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
c.close(); s.close()
PY
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
port="$(cat "$port_file")"
export XDG_CACHE_HOME="$work/cache"
args=(token --tenant contoso.onmicrosoft.com --client-id 11111111-2222-3333-4444-555555555555
      --scope api://bench/.default --pfx "$pfx" --password-file "$pw" --cache --json)
"$keycred" "${args[@]}" --authority "http://127.0.0.1:$port" | grep -q '"fromCache": false'
wait
c_times=()
for ((i = 0; i < runs; i++)); do
  start="$(now_us)"
  "$keycred" "${args[@]}" --authority "http://127.0.0.1:$port" | grep -q '"fromCache": true'
  c_times+=("$(( $(now_us) - start ))")
done
c_median="$(median "${c_times[@]}")"
printf 'token --cache hit (the endpoint is gone, so no connection was made): median %.1f ms\n' \
  "$(echo "$c_median / 1000" | bc -l)"
printf 'ratio cache hit/thumbprint: %.2f\n' "$(echo "$c_median / $t_median" | bc -l)"
