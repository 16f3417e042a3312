#!/usr/bin/env bash
# For a machine with a GPU: runs the backend tests with CUDA (where onnxruntime-node's CUDA
# provider is installed) and WebGPU on the real GPU, then prints a short report: which
# providers are available and on which device, how far each is from the CPU on real models,
# and which Q/DQ element types run on the device. Installs nothing (GPU machines may have no
# network): it needs the workspace's node_modules, packages/*/node_modules included.
# Finishes in under 5 minutes. Exit status: non-zero when a test fails or a backend disagrees.
set -uo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/vitest || ! -x node_modules/.bin/tsx || ! -e packages/backends/node_modules/@quantsim/core ]]; then
  echo "gpu-check: node_modules is incomplete: carry node_modules and packages/*/node_modules along, or run scripts/setup.sh" >&2
  exit 2
fi
# Mesa's and NVIDIA's Vulkan drivers want a runtime directory.
if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
fi

echo "== machine"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu: /'
else
  echo "gpu: nvidia-smi not found"
fi
icds="$(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep '\.json$' | tr '\n' ' ')"
echo "vulkan drivers: ${icds:-none}"
echo "node $(node --version), onnxruntime-node $(node -p "require('./node_modules/onnxruntime-node/package.json').version")"

status=0
echo "== backend tests"
timeout 200 node_modules/.bin/vitest run packages/backends/test examples/custom-backend 2>&1 |
  grep -v -E 'maxDynamic(Uniform|Storage)BuffersPerPipelineLayout' | grep -E -v '^\s*$' | tail -n 60
test_status=${PIPESTATUS[0]}
[[ $test_status == 0 ]] || { echo "gpu-check: backend tests failed (exit $test_status)"; status=1; }

echo "== report"
timeout 90 node_modules/.bin/tsx --conditions=@quantsim/source packages/backends/test/backend-report.ts 2>&1 |
  grep -E '^(==|cpu:|cuda:|webgpu:)'
report_status=${PIPESTATUS[0]}
[[ $report_status == 0 ]] || { echo "gpu-check: report failed (exit $report_status)"; status=1; }
exit $status
