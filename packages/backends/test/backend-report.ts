// Prints which backends run on this machine, on which device, whether they agree with the CPU on
// real models, and which Q/DQ element types each runs on its device. Run by scripts/gpu-check.sh:
//   tsx --conditions=@quantsim/source packages/backends/test/backend-report.ts
// Exits 1 when an available backend disagrees with the CPU beyond the tolerance.
import { readFileSync } from 'node:fs';
import { type Backend, probeBackend, type QdqElementType } from '@quantsim/core';
import * as ort from 'onnxruntime-node';
import { REAL_MODELS } from '../../../test-support/models.js';
import { CpuBackend, CudaBackend, WebGpuBackend } from '../src/index.js';
import { ensureXdgRuntimeDir, maxAbsDiff, QDQ_INPUT, QDQ_TYPES, qdqModel, runOnce, strokeImage } from './support.js';

const TOLERANCE = 1e-4;

ensureXdgRuntimeDir();
const cpu = new CpuBackend();
const backends: [Backend, string][] = [
  [cpu, 'cpu'],
  [new CudaBackend(), 'cuda'],
  [new WebGpuBackend(), 'webgpu'],
];
let failed = false;

console.log('== providers');
for (const [backend] of backends) {
  const probe = await probeBackend(backend);
  console.log(
    probe.available
      ? `${backend.name}: available on ${probe.device ?? 'an unnamed device'}`
      : `${backend.name}: unavailable: ${probe.reason}. ${probe.fix ?? ''}`,
  );
}

console.log(`== agreement with cpu (max |difference|, tolerance ${TOLERANCE})`);
const models = [
  ['PaddleOCR classifier', REAL_MODELS.ocrClassifier, 48, 192],
  ['PaddleOCR detector', REAL_MODELS.ocrDetector, 256, 256],
] as const;
for (const [backend, ep] of backends) {
  if (backend === cpu || !(await probeBackend(backend)).available) continue;
  for (const [name, file, h, w] of models) {
    const model = readFileSync(file);
    const input = strokeImage(h, w, 0);
    const expected = await runOnce(cpu, model, input);
    let start = performance.now();
    await runOnce(backend, model, input);
    const first = performance.now() - start;
    start = performance.now();
    const actual = await runOnce(backend, model, input);
    const second = performance.now() - start;
    const diff = maxAbsDiff(expected, actual);
    if (!(diff < TOLERANCE)) failed = true;
    console.log(
      `${ep}: ${name} [${input.dims.join('x')}]: ${diff.toExponential(2)} ${diff < TOLERANCE ? 'ok' : 'TOO FAR'}` +
        ` (session+run ${first.toFixed(0)} ms first, ${second.toFixed(0)} ms again)`,
    );
  }
}

console.log('== Q/DQ element types on the device (opset 21; "qdq": Q then DQ, "dq": DQ of a constant)');
for (const [backend, ep] of backends) {
  if (backend === cpu || !(await probeBackend(backend)).available) continue;
  const rows: string[] = [];
  for (const kind of ['qdq', 'dq'] as const)
    for (const type of QDQ_TYPES) rows.push(`${kind} ${type}: ${await placement(ep, qdqModel(type, kind))}`);
  console.log(`${ep}: ${rows.join(', ')}`);
  const declared = [...backend.capabilities.qdqTypes];
  console.log(`${ep}: declares qdqTypes [${declared.join(', ')}], fusesQdq ${backend.capabilities.fusesQdq}`);
  for (const type of declared as QdqElementType[]) {
    const model = qdqModel(type, 'qdq');
    const diff = maxAbsDiff(await runOnce(cpu, model, QDQ_INPUT), await runOnce(backend, model, QDQ_INPUT));
    if (diff !== 0) failed = true;
    console.log(`${ep}: declared ${type} Q/DQ ${diff === 0 ? 'matches cpu exactly' : `DIFFERS from cpu by ${diff}`}`);
  }
}

/** Where ONNX Runtime puts the model: all on the device, partly on the CPU provider, or nowhere. */
async function placement(ep: string, model: Uint8Array): Promise<'device' | 'cpu fallback' | 'fails'> {
  for (const fallback of ['1', '0'] as const) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [ep],
        logSeverityLevel: 4,
        extra: { session: { disable_cpu_ep_fallback: fallback } },
      });
      await session.run({ x: new ort.Tensor('float32', QDQ_INPUT.data, QDQ_INPUT.dims) });
      await session.release();
      return fallback === '1' ? 'device' : 'cpu fallback';
    } catch {}
  }
  return 'fails';
}

console.log(failed ? '== FAILED: a backend disagrees with the cpu' : '== ok');
process.exitCode = failed ? 1 : 0;
