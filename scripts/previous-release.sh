#!/usr/bin/env bash
# Builds a released version of this project into .tools/releases/<commit>/ (git-ignored), for the
# upgrade test (test/upgrade/), which starts operations on that release's worker and finishes them on
# today's. Usage: scripts/previous-release.sh [commit]  (default: the previous release).
# Idempotent: a finished build leaves a marker and is not built again.
set -euo pipefail
cd "$(dirname "$0")/.."

# The previous release: bump this (and test/upgrade/) when a new version is released.
commit="${1:-c536525}"
target=".tools/releases/$commit"
marker="$target/.built"
[ -f "$marker" ] && exit 0

if ! git cat-file -e "$commit^{commit}" 2>/dev/null; then
  cat >&2 <<MSG
Commit $commit is not in this clone, so the previous release cannot be built for the upgrade test.
A shallow clone lacks it: fetch the whole history with \`git fetch --unshallow\`, then run this again.
MSG
  exit 1
fi

echo "Building release $commit into $target (one time)..." >&2
rm -rf "$target"
mkdir -p "$target"
git archive "$commit" | tar -x -C "$target"

# Same lock file: the installed packages are the release's too, so share them (node_modules may
# itself be a symlink, as in a git worktree: link to the real folder).
if [ -d node_modules ] && git show "$commit:package-lock.json" | cmp -s - package-lock.json; then
  ln -s "$(cd node_modules && pwd -P)" "$target/node_modules"
else
  (cd "$target" && npm ci --no-audit --no-fund >&2)
fi
(cd "$target" && npm run --silent build >&2)
touch "$marker"
echo "Built release $commit." >&2
