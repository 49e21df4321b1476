#!/usr/bin/env bash
# A whole tenant within Graph's budget (issue 30), against the tests' Graph and OAuth servers on 127.0.0.1:
# APPS apps (every fifth due; UNIDENTIFIED percent of the due ones, default 10, carry no customKeyIdentifier, so
# their plan must read their keys: at 100, Graph's limit on reading keys sets the pace) and SPS service principals with SAML signing certificates. The Graph server enforces Graph's limits with its
# clock sped up GRAPH_TIME_SCALE times (keycred's budget on the same clock) and the OAuth server trusts a new
# certificate only REPLICATION_DELAY_MS after Graph took it.
#
# It runs `graph sps`, the plan, then `graph rotate --all --apply --verify`, and prints: the requests by kind,
# 429s (must be 0), reads of healthy apps (must be 0), the largest number of reads of keys for one due app (at most
# 1), and the apply run's wall time beside the least time the plan said Graph's limits allow for it (target:
# within 1.1x, plus one replication delay and the token round trips).
#
#   bench/graph-scale.sh [APPS] [SPS]     (default 5000 and 1000)
#   UNIDENTIFIED=100 GRAPH_TIME_SCALE=4 bench/graph-scale.sh 5000 0    (a run the budget paces)
#
# The apply run starts a minute of the test clock after the plan, from an idle budget, as the plan's least time
# assumes (right after it, keycred's record of what the plan spent would hold it back for that minute instead).
#
# Needs node with `npm ci --prefix tests/oidc` done, python3, bash 5 ($EPOCHREALTIME).
set -euo pipefail
cd "$(dirname "$0")/.."
apps="${1:-5000}"
sps="${2:-1000}"
scale="${GRAPH_TIME_SCALE:-10}"
delay="${REPLICATION_DELAY_MS:-5000}"
unidentified="${UNIDENTIFIED:-10}"
cargo build --release --quiet
keycred="$PWD/target/release/keycred"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export XDG_STATE_HOME="$work/state"
now_ms() { local t="${EPOCHREALTIME/./}"; echo "$((10#$t / 1000))"; }

tenant=72f988bf-86f1-41af-91ab-2d7cd011db47
client=a0a0a0a0-1111-4222-8333-444455556666
"$keycred" new --subject "CN=Bench Automation" --out "$work" --name automation --no-pfx > /dev/null
python3 - "$work/seed.json" "$apps" "$sps" "$(base64 -w0 "$work/automation.cer")" "$client" "$unidentified" <<'PY'
import base64, datetime, hashlib, json, subprocess, sys
path, count, sps, automation, client = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
unidentified = int(sys.argv[6])
now = datetime.datetime.now(datetime.timezone.utc)
at = lambda days: (now + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
key = base64.b64encode(open("tests/fixtures/openssl-rsa.cer", "rb").read()).decode()
apps = []
for i in range(count):
    due = i % 5 == 1
    credential = {"key": key, "keyId": f"00000000-0000-4000-8000-{i:012}", "displayName": f"CN=App {i}",
                  "startDateTime": at(-300), "endDateTime": at(10 if due else 300)}
    if due and (i // 5) % 100 < unidentified:
        credential["customKeyIdentifier"] = None
    apps.append({"id": f"10000000-0000-4000-8000-{i:012}", "appId": f"20000000-0000-4000-8000-{i:012}",
                 "displayName": f"App {i}", "keyCredentials": [credential]})
apps.append({"id": "40000000-0000-4000-8000-000000000001", "appId": client, "displayName": "Bench Automation",
             "keyCredentials": [{"key": automation, "keyId": "50000000-0000-4000-8000-000000000001"}]})
def group(n, days):
    ident = base64.b64encode(hashlib.sha1(str(n).encode()).digest()).decode()
    shared = f"60000000-0000-4000-8000-{n:012}"
    entry = lambda usage, kid: {"customKeyIdentifier": ident, "displayName": "CN=Microsoft Azure Federated SSO Certificate",
        "startDateTime": at(days - 1095), "endDateTime": at(days), "key": None, "keyId": kid, "type": "AsymmetricX509Cert", "usage": usage}
    return ([entry("Sign", shared), entry("Verify", f"70000000-0000-4000-8000-{n:012}")],
            [{"customKeyIdentifier": ident, "endDateTime": at(days), "keyId": shared, "startDateTime": at(days - 1095)}],
            hashlib.sha1(str(n).encode()).hexdigest().upper())
principals = []
for i in range(sps):
    keys, passwords, thumb = group(i, 20 if i % 7 == 0 else 400)
    principals.append({"id": f"80000000-0000-4000-8000-{i:012}", "appId": f"90000000-0000-4000-8000-{i:012}",
                       "displayName": f"SSO {i}", "preferredTokenSigningKeyThumbprint": thumb,
                       "keyCredentials": keys, "passwordCredentials": passwords})
json.dump({"apps": apps, "servicePrincipals": principals}, open(path, "w"))
PY

GRAPH_ROLES=Application.ReadWrite.All GRAPH_STATE_FILE="$work/graph-url.txt" REPLICATION_DELAY_MS="$delay" \
  node tests/oidc/server.mjs "$tenant" "$client" "$work/automation.pem" 99999999-8888-4777-8666-555555555555 unused \
  > "$work/oidc.out" 2>/dev/null &
pids+=("$!")
for _ in $(seq 100); do grep -q listening "$work/oidc.out" 2>/dev/null && break; sleep 0.1; done
oidc="http://127.0.0.1:$(awk '{print $2}' "$work/oidc.out")"
OIDC_URL="$oidc" GRAPH_TIME_SCALE="$scale" node tests/oidc/graph.mjs "$oidc/$tenant/discovery/v2.0/keys" "$tenant" \
  "$work/seed.json" > "$work/graph.out" 2>/dev/null &
pids+=("$!")
for _ in $(seq 100); do grep -q listening "$work/graph.out" 2>/dev/null && break; sleep 0.1; done
graph="http://127.0.0.1:$(awk '{print $2}' "$work/graph.out")"
echo "$graph" > "$work/graph-url.txt"
export KEYCRED_GRAPH_TIME_SCALE="$scale"
connect=(--graph-url "$graph" --authority "$oidc" --tenant "$tenant" --client-id "$client"
         --cert "$work/automation.pem" --key "$work/automation.key")

start="$(now_ms)"
"$keycred" graph sps "${connect[@]}" > "$work/sps.txt" || true
echo "graph sps, $sps service principals: $(( $(now_ms) - start )) ms; $(tail -n1 "$work/sps.txt")"
"$keycred" graph rotate --all "${connect[@]}" --no-pfx --out "$work/certs" --jobs 4 --json > "$work/plan.json" 2> /dev/null || true
curl -s "$graph/_test/log" > "$work/plan-log.json"
# As an admin reads the plan: Graph's minute (on the test clock) passes, so the apply run starts from an idle
# budget, as the plan's least time assumes.
sleep "$(python3 -c "print(60 / $scale + 0.5)")"
start="$(now_ms)"
"$keycred" graph rotate --all "${connect[@]}" --no-pfx --out "$work/certs" --jobs 4 --apply --verify --json \
  > "$work/apply.json" 2> /dev/null || true
apply_ms=$(( $(now_ms) - start ))
curl -s "$graph/_test/log" > "$work/log.json"
python3 - "$work" "$apply_ms" "$scale" "$delay" <<'PY'
import json, sys, urllib.parse
work, apply_ms, scale, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
plan = json.load(open(f"{work}/plan.json"))
applied = json.load(open(f"{work}/apply.json"))
before = len(json.load(open(f"{work}/plan-log.json")))
log = json.load(open(f"{work}/log.json"))[before:]
path = lambda e: urllib.parse.unquote(e["path"])
due = {a["id"] for a in plan["apps"] if a["result"] == "planned"}
healthy = {a["id"] for a in plan["apps"] if a["result"] == "skipped"}
one = lambda e: path(e).split("/v1.0/applications/")[1].split("?")[0].split("/")[0] if path(e).startswith("/v1.0/applications/") and not path(e).startswith("/v1.0/applications/delta") else None
keys = {}
for e in log:
    if e["method"] == "GET" and one(e) and "keyCredentials" in path(e).split("$select=")[-1] and "$select=" in path(e):
        keys[one(e)] = keys.get(one(e), 0) + 1
results = {}
for a in applied["apps"]:
    results[a["result"]] = results.get(a["result"], 0) + 1
least = applied["graph"]["apply"]["leastSeconds"] if applied["graph"]["apply"] else plan["graph"]["apply"]["leastSeconds"]
print(f"apply --verify: {results}; verified {sum(1 for a in applied['apps'] if a['verified'])}")
print(f"requests: {applied['graph']['requests']}; 429s: {sum(1 for e in log if e.get('status') == 429)}")
print(f"reads of healthy apps: {sum(1 for e in log if one(e) in healthy)}; most reads of keys for one due app: {max(keys.values(), default=0)} ({len(keys)} apps)")
allowed = least / scale
print(f"wall time {apply_ms / 1000:.1f} s; Graph's limits allow at least {allowed:.1f} s at this clock "
      f"({least} s on Graph's), plus a replication delay of {delay / 1000:.1f} s")
writes = [e["time"] for e in log if e["method"] == "PATCH"]
if writes:
    first = min(e["time"] for e in log)
    print(f"reads and writes done {(max(writes) - first) / 1000:.1f} s after the run's first request "
          f"({(max(writes) - first) / 1000 / max(allowed, 0.001):.2f}x what Graph's limits allow); "
          f"the rest is the verification pass (tokens from the test OAuth server)")
PY
