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

# Every package the release names (dependencies and devDependencies, pinned) is installed here at
# the same version: share them rather than install them again, which takes a minute or more on two
# cores (node_modules may itself be a symlink, as in a git worktree: link to the real folder).
same_packages() {
  git show "$commit:package.json" | node -e '
    const fs = require("node:fs");
    const release = JSON.parse(fs.readFileSync(0, "utf8"));
    const wanted = { ...release.dependencies, ...release.devDependencies };
    const installed = (name) => {
      try { return JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8")).version; }
      catch { return undefined; }
    };
    process.exit(Object.entries(wanted).every(([name, version]) => installed(name) === version) ? 0 : 1);
  '
}
if [ -d node_modules ] && same_packages; then
  ln -s "$(cd node_modules && pwd -P)" "$target/node_modules"
else
  (cd "$target" && npm ci --no-audit --no-fund >&2)
fi
(cd "$target" && npm run --silent build >&2)
touch "$marker"
echo "Built release $commit." >&2
