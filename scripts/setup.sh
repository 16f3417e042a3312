#!/usr/bin/env bash
# Installs what a bare Debian machine with Node 20 lacks, then the workspace's packages.
# Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install script would download CUDA binaries from a host we cannot reach;
# pnpm 10 does not run dependency build scripts, and this keeps npm-driven installs from trying.
export ONNXRUNTIME_NODE_INSTALL=skip

# WebGPU on a machine without a GPU: onnxruntime-node's WebGPU provider (Dawn) runs on Vulkan,
# and Mesa's lavapipe is a Vulkan driver on the CPU. Bookworm's own Mesa (22.x) is too old for
# Dawn, so it comes from bookworm-backports. Without it the WebGPU tests skip with a reason.
install_lavapipe() {
  if [[ "$(id -u)" != 0 ]]; then
    echo "setup: not root, skipping lavapipe (Vulkan on the CPU); WebGPU tests will skip unless a GPU driver is present"
    return
  fi
  if [[ ! -r /etc/os-release ]] || ! grep -q '^VERSION_CODENAME=bookworm$' /etc/os-release; then
    echo "setup: not Debian bookworm, skipping lavapipe; install a Vulkan driver yourself for the WebGPU tests"
    return
  fi
  if dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q 'bpo12' &&
    dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'; then
    echo "setup: lavapipe from bookworm-backports already installed"
    return
  fi
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "setup: adding the bookworm-backports apt suite"
    cat >/etc/apt/sources.list.d/bookworm-backports.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  echo "setup: installing mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports \
    mesa-vulkan-drivers libvulkan1 >/dev/null
}
install_lavapipe

# redis-server for the BullMQ tests of @quantsim/distributed: each test file starts its own server
# on a free port of 127.0.0.1 and stops it; nothing here starts one. Without it those tests skip.
install_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    echo "setup: redis-server already installed ($(redis-server --version | cut -d' ' -f3))"
    return
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: not root with apt, skipping redis-server; the BullMQ tests will skip"
    return
  fi
  echo "setup: installing redis-server (Debian's package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package's own service is not needed: tests start their own servers.
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  fi
}
install_redis

# Chromium for the HTML report test (playwright-core drives Debian's browser; it never downloads one).
bash scripts/setup-cli-tests.sh

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
  echo "setup: installing pnpm 10 with npm (corepack's signature check fails on some machines)"
  npm install -g pnpm@10.34.9 >/dev/null
fi

pnpm install --frozen-lockfile
