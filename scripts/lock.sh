#!/usr/bin/env bash
# Regenerates constraints.txt from the current .venv: every installed distribution pinned exactly,
# pip/setuptools/wheel included (bootstrap upgrades them under the same constraints), the editable
# project distributions (streampath and its four) left out because they are installed from the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x .venv/bin/python ]] || { echo "lock: no .venv yet; run 'make bootstrap' first" >&2; exit 1; }
tmp=$(mktemp constraints.txt.XXXXXX)
trap 'rm -f "$tmp"' EXIT
{
  echo "# Exact versions of every package in the dev venv; scripts/bootstrap.sh installs with -c constraints.txt."
  echo "# Regenerate with 'make lock' after changing a dependency in a pyproject.toml of the repository."
  .venv/bin/python -m pip freeze --all --exclude-editable --disable-pip-version-check \
    | grep -viE '^(streampath|streampath[-_]canary|streampath[-_]cdk|streamprobe|streamcheck)([=@ ]|$)' \
    | LC_ALL=C sort -f
} >"$tmp"
mv "$tmp" constraints.txt
trap - EXIT
echo "lock: wrote constraints.txt ($(grep -vc '^#' constraints.txt) packages)"
