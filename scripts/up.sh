#!/usr/bin/env bash
# One command from a fresh machine to a running Kai on http://localhost:9900
# (set PORT, HOST, KAI_HOST_ROOT... as in README's configuration table).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n==> starting Kai\n'
exec npm start --silent
