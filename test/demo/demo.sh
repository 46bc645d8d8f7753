#!/usr/bin/env bash
# The README's quick-start demo: a standalone agent over a small demo tree. It takes a baseline,
# changes one file, runs a check, and shows the Failed scan and its changed file with the CLI.
set -euo pipefail
cd "$(dirname "$0")/../.."
demo=$(mktemp -d /tmp/podsec-fim-demo.XXXXXX)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$demo"
}
trap cleanup EXIT

mkdir -p "$demo/tree/etc" "$demo/tree/bin"
printf 'listen = 127.0.0.1\n' > "$demo/tree/etc/app.conf"
printf '#!/bin/sh\necho tool\n' > "$demo/tree/bin/tool"
cat > "$demo/aide.conf" <<CONF
DEMO = p+ftype+i+l+n+u+g+s+sha512
$demo/tree(\$|/) DEMO
CONF
cat > "$demo/agent.json" <<JSON
{ "nodeName": "demo-node", "stateDir": "$demo/state", "socketPath": "$demo/agent.sock",
  "aide": { "config": "$demo/aide.conf", "gracePeriod": 3600, "initialDelay": 3600 } }
JSON
cli() { echo "\$ podsec-fim $*"; node bin/podsec-fim.js --config "$demo/agent.json" "$@"; }

echo "== starting podsec-fim-agent (JSON log in $demo/agent.log)"
node bin/podsec-fim-agent.js --config "$demo/agent.json" > "$demo/agent.log" &
agent_pid=$!
for _ in $(seq 1 300); do
  grep -q '"msg":"scan finished"' "$demo/agent.log" 2>/dev/null && break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$demo/agent.log" >&2; echo "demo: the agent exited" >&2; exit 1; }
  sleep 0.1
done
cli status

echo "== changing $demo/tree/etc/app.conf"
printf 'listen = 0.0.0.0\n' > "$demo/tree/etc/app.conf"
set +e
cli check
rc=$?
set -e
[ "$rc" = 1 ] || { echo "demo: expected the check to fail (exit 1), got $rc" >&2; exit 1; }
cli scans
id=$(node bin/podsec-fim.js --config "$demo/agent.json" --json scans --limit 1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log((j.scans??j)[0].id)})')
cli scan "$id"
echo "== demo finished: the check found the changed file (exit 1 = Failed)"
