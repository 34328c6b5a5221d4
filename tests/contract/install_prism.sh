#!/usr/bin/env bash
# Installs Stoplight Prism (the OpenAPI mock server the contract tests run) into the repo-local
# folder .tools/prism. Idempotent: does nothing when the wanted major version is already there.
# Usage: bash tests/contract/install_prism.sh      (PRISM_VERSION=5 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."

PRISM_VERSION="${PRISM_VERSION:-5}"
PREFIX=".tools/prism"
BIN="$PREFIX/node_modules/.bin/prism"

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 18+ (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

# .tools/ holds downloaded tools only; keep it out of git without touching the repo's .gitignore.
mkdir -p "$PREFIX"
[ -f .tools/.gitignore ] || printf '*\n' > .tools/.gitignore

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^${PRISM_VERSION}\."; then
  echo "prism $("$BIN" --version) already in $PREFIX"
  exit 0
fi

echo "installing @stoplight/prism-cli@${PRISM_VERSION} into $PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
  "@stoplight/prism-cli@${PRISM_VERSION}"
echo "prism $("$BIN" --version) installed in $PREFIX"
