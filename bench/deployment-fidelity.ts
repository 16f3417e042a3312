/**
 * The deployment-fidelity table of docs/deployment-fidelity.md: the PaddleOCR recognizer (CER)
 * and direction classifier (accuracy), W8A8 and A16W8, scored with `sim.run` (simulate and
 * emulate mode) and with the exported `.qdq.onnx` in plain onnxruntime-node at default options,
 * on the shipped OCR lines (32 calibration lines; all 96 evaluation lines), or with `--hard` on the
 * hard set (data/ocr-hard: 200 calibration lines, the 500 dev lines; `--calibration N`,
 * `--evaluation N` to change the counts).
 *
 * Run: `pnpm exec tsx --conditions=@quantsim/source bench/deployment-fidelity.ts [--hard] [out-dir]`
 *
 * @module
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIDELITY_PLANS, type FidelityModel, measureFidelity } from '../test-support/deployment-fidelity.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : Number(args.splice(i, 2)[1]);
};
const hard = args.includes('--hard');
if (hard) args.splice(args.indexOf('--hard'), 1);
const calibration = flag('--calibration') ?? (hard ? 200 : 32);
const evaluation = flag('--evaluation');
const dir = args[0] ?? mkdtempSync(path.join(os.tmpdir(), 'quantsim-fidelity-'));
const fmt = (v: number) => v.toFixed(2);
console.log(
  '| model | plan | metric | float | sim.run (simulate) | sim.run (emulate) | .qdq.onnx in ORT | gap simulate | gap emulate | lines differing (simulate / emulate) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const model of ['recognizer', 'classifier'] as FidelityModel[])
  for (const plan of Object.keys(FIDELITY_PLANS) as (keyof typeof FIDELITY_PLANS)[]) {
    const r = await measureFidelity(model, plan, path.join(dir, `${model}-${plan}`), {
      calibration,
      ...(evaluation === undefined ? {} : { evaluation }),
      set: hard ? 'hard' : 'shipped',
    });
    console.log(
      `| ${model} | ${plan} | ${r.metric} | ${fmt(r.float)} | ${fmt(r.simRun)} | ${fmt(r.emulateRun)} | ${fmt(r.qdqOrt)} | ${fmt(Math.abs(r.qdqOrt - r.simRun))} | ${fmt(Math.abs(r.qdqOrt - r.emulateRun))} | ${r.disagreements} / ${r.emulateDisagreements} of ${r.samples} |`,
    );
  }
