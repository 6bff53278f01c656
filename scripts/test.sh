#!/usr/bin/env bash
# The whole test suite, from a fresh machine: prepares the engine and images,
# type-checks, then runs every test against the real engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
printf '\n==> type check\n'
npm run typecheck --silent
printf '\n==> tests\n'
npm test
