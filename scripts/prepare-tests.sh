#!/usr/bin/env bash
# What `npm test` needs before jest: the Temporal binaries, Chromium, this build and the previous
# release's (for the upgrade test). The two builds are mostly single-threaded tsc: run side by side,
# they take the longer one's time on two cores rather than the sum.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-temporal.sh
bash scripts/ensure-chromium.sh
bash scripts/previous-release.sh &
release=$!
# A failed build still waits for the release's, so nothing is left writing to .tools/ after we exit.
trap 'wait "$release" || true' EXIT
npm run --silent build
trap - EXIT
wait "$release"
