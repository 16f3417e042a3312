// Child process of export-crash.test.ts: loads the model and two encodings files, then exports
// the two simulations to one prefix in turn (B first: the parent leaves A there), until killed.
import { loadModel, quant } from '../../src/index.js';

const [file, encA, encB, prefix] = process.argv.slice(2) as [string, string, string, string];
const formats = ['encodings', 'onnx', 'ort-overrides', 'plan'] as const;
const model = await loadModel(file);
const a = await quant(model).loadEncodings(encA).simulate();
const b = await quant(model).params(4).loadEncodings(encB).simulate();
process.stdout.write('ready\n');
for (let i = 0; ; i++) await (i % 2 === 0 ? b : a).export(prefix, { formats });
