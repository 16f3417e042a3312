#!/usr/bin/env bash
# Installs what a bare Debian machine with Node 20 lacks, then the workspace's packages.
# Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install script would download CUDA binaries from a host we cannot reach;
# pnpm 10 does not run dependency build scripts, and this keeps npm-driven installs from trying.
export ONNXRUNTIME_NODE_INSTALL=skip

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
  echo "setup: installing pnpm 10 with npm (corepack's signature check fails on some machines)"
  npm install -g pnpm@10.34.9 >/dev/null
fi

pnpm install --frozen-lockfile
