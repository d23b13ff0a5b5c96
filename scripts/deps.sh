#!/usr/bin/env bash
# Installs the Debian packages vauth needs to build and test, skipping those
# already installed. Sourced or run by scripts/test.sh and scripts/run.sh.
#   scripts/deps.sh [extra packages...]
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libssl-dev libcbor-dev libusb-1.0-0-dev zlib1g-dev
  libboost-dev libboost-program-options-dev
  nlohmann-json3-dev libtomlplusplus-dev doctest-dev
  libfido2-dev fido2-tools python3-fido2
  libumockdev-dev umockdev
  chromium chromium-driver firefox-esr python3-selenium fonts-liberation python3-flask nodejs xvfb xdotool x11-apps netpbm   # tests/browser
  tshark python3-yaml   # tests: --pcap files read back by Wireshark's tshark; docker/compose.yaml parsed
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
browser_modules() {  # Playwright and Puppeteer for tests/browser, pinned by its package-lock.json
  local dir
  dir=$(cd "$(dirname "$0")/../tests/browser" && pwd)
  # npm ci again whenever the lock file changed since the last install.
  cmp -s "$dir/package-lock.json" "$dir/node_modules/.vauth-lock" 2>/dev/null ||
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && cp package-lock.json node_modules/.vauth-lock)
}

if [ ${#missing[@]} -eq 0 ]; then browser_modules; exit 0; fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
browser_modules
