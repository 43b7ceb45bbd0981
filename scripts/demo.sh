#!/usr/bin/env bash
# The README's demo command: installs Debian's XGBoost for Python when it is missing (the demo
# trains its churn model with it; there is no pip here), then runs
# `meridian demo` with the given flags.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c 'import numpy, xgboost' >/dev/null 2>&1; then
  echo "installing python3-xgboost (the demo trains its churn model with it)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "cannot install python3-xgboost: not root and no sudo; run apt-get install -y python3-xgboost" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3-xgboost python3-numpy >/dev/null
fi

exec node bin/meridian.js demo "$@"
