#!/usr/bin/env bash
# Runs test files on an emulated x86-64 CPU: QEMU's user-mode emulation with another CPU model
# (default Haswell: AVX2 and FMA, no AVX-512). ONNX Runtime picks its kernels from CPUID at run
# time, and QEMU answers CPUID for the model asked for, so the tests take that CPU's code paths
# (the float results change in the last bits, as on such a machine). About 20-40x slower than
# native: run a few files, not the suite.
#
#   bash scripts/test-on-emulated-cpu.sh packages/quantsim/test/backends.test.ts packages/quantsim/test/qdq-export.test.ts
#   QEMU_CPU=EPYC-Rome bash scripts/test-on-emulated-cpu.sh <files>   # qemu-x86_64 -cpu help lists the models
#
# Threads only (--pool=threads): a child process would start natively, outside the emulation.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v qemu-x86_64 >/dev/null; then
  echo "qemu-x86_64 is missing: apt-get install qemu-user" >&2
  exit 2
fi
if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/test-on-emulated-cpu.sh <test files...>" >&2
  exit 2
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# QEMU warns once per thread about CPUID bits it cannot emulate; those lines are dropped.
qemu-x86_64 -cpu "${QEMU_CPU:-Haswell}" "$(command -v node)" node_modules/vitest/vitest.mjs run \
  --pool=threads --testTimeout=3000000 --hookTimeout=3000000 "$@" 2> >(grep -v "TCG doesn't support" >&2)
