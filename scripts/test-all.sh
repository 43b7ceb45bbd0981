#!/usr/bin/env bash
# The README's test command: installs the real servers the suites need when they are missing
# (Debian packages, as root), installs npm dependencies when absent, runs every suite with the
# servers required, and ends with one plain line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# promtool validates deploy/prometheus/rules (the Debian package ships it with the server).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# Fixture generators and the Python clients the serving tests drive (Debian's, never pip).
for pkg in python3-xgboost python3-sklearn python3-scipy python3-onnx python3-numpy python3-grpcio python3-grpc-tools python3-requests; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages the test suites run against)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "cannot install ${need[*]}: not root and no sudo; install them and run again" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts these as system services on install; the suites start their own on free ports.
  for svc in redis-server nats-server postgresql prometheus; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

[ -d node_modules ] || npm ci

export MERIDIAN_REQUIRE_SERVICES=1
report=$(mktemp -t meridian-vitest-XXXXXX.json)
status=0
npm test -- --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  // Totals from the vitest JSON report; a file that failed to load (no test ran) counts as one failure.
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const passed = r.numPassedTests ?? 0;
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  let failed = (r.numFailedTests ?? 0) + brokenFiles + (r.testResults ? 0 : 1);
  if (failed === 0 && process.argv[2] !== "0") failed = 1; // vitest failed outside any test
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" "$status"
rm -f "$report"
exit "$status"
