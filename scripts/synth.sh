#!/usr/bin/env bash
# `make synth`: synthesise into a staging directory and put it in place of cdk.out only when synth succeeded,
# so a failed synth (a bad config, an unacknowledged cdk-nag finding) leaves the last good cdk.out as it was.
# Offline and credential-free: the app does no lookups, and the CLI's version check and notices are off.
set -euo pipefail
cd "$(dirname "$0")/.."

config=${1:-default}
out=cdk.out
# Under build/ (ignored by git, ruff and mypy) and on the same file system as cdk.out, so the swap is a rename.
mkdir -p build
staging=$(mktemp -d build/cdk.out.synth-XXXXXX)
retired="$staging.previous"
trap 'rm -rf "$staging" "$retired"' EXIT

start=$SECONDS
# The CLI names the staging directory as where it synthesised; cdk.out is where the templates end up.
if ! scripts/cdk synth --quiet --no-notices --no-version-reporting -c "config=$config" -o "$staging" 2>&1 \
  | sed -e '/^Successfully synthesized to /d' -e '/^Supply a stack id /d'; then
  if [[ -d $out ]]; then
    echo "synth: failed for config '$config'; the previous $out/ is left as it was" >&2
  else
    echo "synth: failed for config '$config'" >&2
  fi
  exit 1
fi
[[ -e $out ]] && mv "$out" "$retired"
mv "$staging" "$out"
echo "Templates written for config '$config' in $((SECONDS - start)) s:"
ls -1 "$out"/*.template.json
