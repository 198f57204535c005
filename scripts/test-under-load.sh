#!/usr/bin/env bash
# Runs the whole suite (npm test) while a CPU hog keeps every core busy, as on a loaded CI machine.
# Usage: scripts/test-under-load.sh [runs]    runs defaults to 2; it stops at the first failing run.
# The hog is stress-ng when installed (apt-get install -y stress-ng), otherwise a busy loop per core.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-2}"
cores="$(nproc)"

hogs=()
stop_hogs() {
  if ((${#hogs[@]})); then
    kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
  fi
}
trap stop_hogs EXIT

if command -v stress-ng >/dev/null; then
  stress-ng --cpu "$cores" --quiet &
  hogs+=($!)
  hog="stress-ng --cpu $cores"
else
  for _ in $(seq "$cores"); do
    (while :; do :; done) &
    hogs+=($!)
  done
  hog="$cores busy loops"
fi

for run in $(seq "$runs"); do
  echo "== run $run of $runs: npm test beside $hog"
  started=$SECONDS
  npm test
  echo "== run $run of $runs passed in $((SECONDS - started)) s"
done
