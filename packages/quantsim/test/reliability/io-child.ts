// Child process of file-safety.test.ts: one file operation that might hang (a FIFO, /proc), so
// that the test can kill it on a timeout. Prints the error it got as JSON.
import { buildDetectorHead } from '../../../../examples/detector-head/detector-head-model.js';
import { loadModel, saveModel } from '../../src/index.js';

const [op, target] = process.argv.slice(2) as ['load' | 'save', string];
try {
  if (op === 'load') await loadModel(target);
  else await saveModel(buildDetectorHead(), target);
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (e) {
  const err = e as { name?: string; code?: string; message?: string };
  process.stdout.write(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
}
