#!/usr/bin/env bash
# Installs Stoplight Prism (the OpenAPI mock server the contract tests run) into the repo-local
# folder .tools/prism, exactly as pinned with its whole dependency tree in
# tests/contract/prism-cli/package-lock.json (`npm ci`): a fresh resolve of @stoplight/prism-cli@5
# can pull releases that need a newer Node.js than Debian's (18). Idempotent: does nothing when
# that lock is already installed.
# Usage: bash tests/contract/install_prism.sh
# To move Prism on: change the version in tests/contract/prism-cli/package.json, run
# `npm install --package-lock-only` in that folder, and check `make test` on Node.js 18 and 20.
set -euo pipefail
cd "$(dirname "$0")/../.."

PINNED="tests/contract/prism-cli"
PREFIX=".tools/prism"
BIN="$PREFIX/node_modules/.bin/prism"

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 18+ (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# .tools/ holds downloaded tools only; keep it out of git without touching the repo's .gitignore.
mkdir -p "$PREFIX"
[ -f .tools/.gitignore ] || printf '*\n' > .tools/.gitignore

if [ -x "$BIN" ] && cmp -s "$PINNED/package-lock.json" "$PREFIX/.installed-lock.json"; then
  echo "prism $("$BIN" --version) already in $PREFIX"
  exit 0
fi

echo "installing Prism as pinned in $PINNED into $PREFIX (node $(node --version))"
cp "$PINNED/package.json" "$PINNED/package-lock.json" "$PREFIX/"
npm ci --prefix "$PREFIX" --no-audit --no-fund --loglevel=error
cp "$PINNED/package-lock.json" "$PREFIX/.installed-lock.json"
echo "prism $("$BIN" --version) installed in $PREFIX"
