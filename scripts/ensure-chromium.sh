#!/usr/bin/env bash
# The Web UI test drives Debian's Chromium headless (playwright-core never downloads a browser here).
# Installs it when missing and this user may (root with apt-get); otherwise says what to install.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$path" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium (Debian package chromium) for the Web UI test (one time)..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  exit 0
fi
cat >&2 <<MSG
The Web UI test needs Chromium at $path.
Install it (Debian or Ubuntu: sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium you have.
MSG
exit 1
