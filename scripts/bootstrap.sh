#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian packages, .venv with the project, the pinned CDK CLI.
# Each step is skipped when its stamp is newer than its inputs, so `make` stays fast when warm.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# jsii prints an end-of-life banner for old Node majors unless this lists the running one.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 20)}
stamp_dir=.venv/.stamps

need_apt() {
  local missing=()
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < scripts/apt-packages.txt
  if ((${#missing[@]})); then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    # With recommends: the machine this was tested on had them (chromium-common recommends fonts, upower).
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

need_venv() {
  if [[ ! -x .venv/bin/python ]]; then
    echo "bootstrap: creating .venv"
    "$PYTHON" -m venv .venv
  fi
  mkdir -p "$stamp_dir"
  if [[ ! -f "$stamp_dir/pip" || pyproject.toml -nt "$stamp_dir/pip" || probe/pyproject.toml -nt "$stamp_dir/pip" ]]; then
    echo "bootstrap: installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
    .venv/bin/python -m pip install -q -e './probe[brotli,browser]' -e '.[dev,browser,chart]'
    touch "$stamp_dir/pip"
  fi
}

need_node() {
  command -v npm >/dev/null || { echo "bootstrap: npm is required (Node.js 20+)" >&2; exit 1; }
  if [[ ! -x node_modules/.bin/cdk || package.json -nt node_modules/.stamp ]]; then
    echo "bootstrap: installing the pinned CDK CLI into node_modules"
    npm install --no-audit --no-fund --silent
    touch node_modules/.stamp
  fi
}

need_wheels() {
  # The canary's pure-Python wheels for Lambda (arm64, Python 3.14), cached in .wheels/ so that
  # `make synth` bundles the asset without touching the network.
  .venv/bin/python -m streampath_cdk.canary_function >/dev/null
}

case "${1:-all}" in
  apt) need_apt ;;
  python) need_venv ;;
  node) need_node ;;
  wheels) need_wheels ;;
  all) need_apt; need_venv; need_node; need_wheels ;;
  *) echo "usage: $0 [all|apt|python|node|wheels]" >&2; exit 2 ;;
esac
