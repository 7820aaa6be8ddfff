#!/usr/bin/env bash
# Runs the fixture apps of fixtures/fixapps/ with pytest (FastAPI TestClient / Flask test client,
# DynamoDB stubbed by moto): first as written, then after `keylint check --fix --unsafe-fixes`
# on a copy. Both runs must answer the same. Python deps install themselves into
# $KEYLINT_CACHE/fixapps-venv (default .cache/) on the first run.
#   usage: tests/fixapps/run.sh [path/to/keylint]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/release/keylint}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac  # the script changes directory below
cache=${KEYLINT_CACHE:-$root/.cache}
venv=$cache/fixapps-venv
# The venv is (re)installed when it is missing or was made from other requirements.
req="$root/tests/fixapps/requirements.txt"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$req" "$venv/requirements.txt"; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$req"
  cp "$req" "$venv/requirements.txt"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root"/fixtures/fixapps/*.py "$work/"
cd "$root/tests/fixapps"
echo "fixapps: as written"
FIXAPPS_DIR="$root/fixtures/fixapps" "$venv/bin/python" -m pytest -q -p no:cacheprovider
# Exit 1 is fine here (findings without a fix, KL206 hints, are left).
"$bin" check "$work" --fix --unsafe-fixes --no-progress >/dev/null || [ $? -eq 1 ]
echo "fixapps: after keylint check --fix --unsafe-fixes"
FIXAPPS_DIR="$work" FIXAPPS_EXPECT_HASHED=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider
