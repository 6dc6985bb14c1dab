#!/usr/bin/env bash
# `make dist`: an sdist and a wheel of each distribution of this repository, checked as a package index
# checks them (`twine check --strict`).
#   scripts/dist.sh [OUT]   build into OUT (default dist/), replacing the files of the same versions
#   scripts/dist.sh --list  the distributions' folders, one a line
#   scripts/dist.sh --files the files a build copies (NUL-separated): what git would commit in those folders
# Each is built by `python -m build` (the wheel from the sdist) from a copy of the files git would commit,
# so the sdist holds what a clone has and the checkout gets no build/ or *.egg-info. No build isolation:
# the .venv's pinned setuptools builds, offline.
set -euo pipefail
cd "$(dirname "$0")/.."

folders=(probe service lambda/canary cdk)
if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${folders[@]}"
  exit 0
fi
git_files() { git ls-files -z --cached --others --exclude-standard -- "$@"; }
if [[ ${1:-} == --files ]]; then
  git_files "${folders[@]}"
  exit 0
fi

out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
py=.venv/bin/python
scratch=$(mktemp -d "${TMPDIR:-/tmp}/streampath-dist-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

start=$SECONDS
for folder in "${folders[@]}"; do
  git_files "$folder" | tar --null -T - -cf - | tar -xf - -C "$scratch"
  "$py" -m build --no-isolation --outdir "$scratch/out" "$scratch/$folder" >"$scratch/build.log" 2>&1 \
    || { cat "$scratch/build.log" >&2; echo "dist: python -m build $folder failed" >&2; exit 1; }
done
"$py" -m twine check --strict "$scratch"/out/*
built=$(cd "$scratch/out" && ls -1)
mv -f "$scratch"/out/* "$out"/
echo "dist: built and checked in $((SECONDS - start)) s, in $out:"
echo "$built" | sed 's/^/  /'
