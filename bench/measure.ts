import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

/** Peak RSS (MiB) and time of one calibration in a fresh process, and one sample's activations (MiB as float32). */
export interface CalibrationRss {
  readonly maxRssMiB: number;
  readonly seconds: number;
  readonly sampleMiB: number;
}

/** Runs calibration in a fresh process and returns its peak RSS (MiB) and time. */
export async function calibrationRss(workload: string, scheme: string, count: number): Promise<CalibrationRss> {
  const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');
  const { stdout } = await run(
    tsx,
    ['--conditions=@quantsim/source', path.join(here, 'calibration-rss.ts'), workload, scheme, String(count)],
    {
      maxBuffer: 1 << 20,
      cwd: path.join(here, '..'),
    },
  );
  const last = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as CalibrationRss;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
