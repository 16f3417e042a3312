import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../../../test-support/models.js';
import { type ExportFormat, loadModel, type QuantSim, quant } from '../../src/index.js';

const FORMATS = ['encodings', 'onnx', 'ort-overrides', 'plan'] as const satisfies readonly ExportFormat[];
const CHILD = fileURLToPath(new URL('./export-loop-child.ts', import.meta.url));
const TRIALS = 30;
const PARALLEL = 6;

let dir: string;
let childArgs: string[];
let encA: string;
let encB: string;
let simA: QuantSim;
let simB: QuantSim;
const reference = new Map<'A' | 'B', Buffer[]>();

/** The visible files of an export, in FORMATS order (undefined where one is missing). */
async function visible(prefix: string): Promise<(Buffer | undefined)[]> {
  const names = ['encodings', 'onnx', 'ort-overrides.json', 'plan.json'];
  return Promise.all(names.map((n) => readFile(`${prefix}.${n}`).catch(() => undefined)));
}

function whichSet(files: readonly (Buffer | undefined)[]): 'A' | 'B' | 'mixed' {
  for (const [name, ref] of reference) if (ref.every((b, i) => files[i]?.equals(b))) return name;
  return 'mixed';
}

/** Hidden entries beside an export, and inside its set folder, other than the live version. */
async function leftovers(folder: string, base: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(folder)) if (e.startsWith('.') && e !== `.${base}.quantsim`) out.push(e);
  const root = path.join(folder, `.${base}.quantsim`);
  const live = await readlink(path.join(root, 'current'));
  for (const e of await readdir(root)) if (e !== 'current' && e !== live) out.push(`.${base}.quantsim/${e}`);
  return out;
}

/** The part of esbuild's API used here (esbuild is tsx's dependency, without types at the root). */
interface EsbuildResolveArgs {
  readonly path: string;
  readonly kind: string;
  readonly resolveDir: string;
  readonly pluginData?: unknown;
}
interface EsbuildPluginBuild {
  onResolve(options: { filter: RegExp }, callback: (args: EsbuildResolveArgs) => Promise<unknown>): void;
  resolve(path: string, options: object): Promise<{ path: string; errors: readonly unknown[] }>;
}
interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/**
 * The child bundled once into one JavaScript file (workspace sources inlined, npm packages
 * imported from their absolute paths), so that each of the many children starts in a fraction of
 * the time that compiling TypeScript on the fly takes. esbuild comes with tsx.
 */
async function bundleChild(out: string): Promise<string[]> {
  try {
    const esbuild = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))('esbuild') as Esbuild;
    await esbuild.build({
      entryPoints: [CHILD],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@quantsim/source'],
      logLevel: 'silent',
      plugins: [
        {
          name: 'npm-packages-external',
          setup(build: EsbuildPluginBuild) {
            build.onResolve({ filter: /^[^./]/ }, async (args: EsbuildResolveArgs) => {
              if (args.path.startsWith('@quantsim/') || args.path === 'quantsim' || args.pluginData === 'inner') return undefined;
              if (args.path.startsWith('node:')) return { path: args.path, external: true };
              const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
              return r.errors.length ? undefined : { path: r.path, external: true };
            });
          },
        },
      ],
    });
    return [out];
  } catch (e) {
    console.log(`export crash test: cannot bundle the child (${(e as Error).message}); running it through tsx`);
    return ['--import', 'tsx', '--conditions=@quantsim/source', CHILD];
  }
}

/** Runs the export loop in a child and kills it `delayMs` after it starts exporting. */
function exportAndKill(prefix: string, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [...childArgs, REAL_MODELS.ocrDetector, encA, encB, prefix], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    // A child that never gets ready must not hang the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout?.once('data', () => {
      ready = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (!ready) reject(new Error(`export child never got ready: ${stderr.slice(0, 2000)}`));
      else if (signal === 'SIGKILL' && !stderr.includes('Error')) resolve();
      else reject(new Error(`export child ended by ${signal ?? 'exit'} before it was killed: ${stderr.slice(0, 2000)}`));
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'quantsim-crash-'));
  childArgs = await bundleChild(path.join(dir, 'export-loop-child.mjs'));
  const model = await loadModel(REAL_MODELS.ocrDetector);
  const sample = { x: { data: new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37)), dims: [1, 3, 64, 64] } };
  const a = await quant(model).scheme('minmax').calibrate([sample]);
  const b = await quant(model).scheme('minmax').params(4).calibrate([sample]);
  encA = (await a.export(path.join(dir, 'ref-a', 'det'), { formats: ['encodings'] })).encodings as string;
  encB = (await b.export(path.join(dir, 'ref-b', 'det'), { formats: ['encodings'] })).encodings as string;
  // The same simulations the child builds, so that the reference files are byte for byte its own.
  simA = await quant(model).loadEncodings(encA).simulate();
  simB = await quant(model).params(4).loadEncodings(encB).simulate();
  for (const [name, sim] of [
    ['A', simA],
    ['B', simB],
  ] as const) {
    const prefix = path.join(dir, `ref-${name}`, 'det');
    await sim.export(prefix, { formats: FORMATS });
    reference.set(name, (await visible(prefix)) as Buffer[]);
  }
  await Promise.all([a.release(), b.release()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([simA?.release(), simB?.release()]);
  await rm(dir, { recursive: true, force: true });
});

describe('export survives kill -9 at any moment', () => {
  it(`the detector's export set is all-old or all-new after SIGKILL at ${TRIALS} delays, and the next export leaves nothing behind`, async () => {
    expect(reference.get('A')?.[0]?.equals(reference.get('B')?.[0] as Buffer)).toBe(false);
    const outcomes = { A: 0, B: 0, mixed: 0, interrupted: 0 };
    const delays = Array.from({ length: TRIALS }, (_, i) => Math.round((i * 1200) / (TRIALS - 1)));
    const trial = async (worker: number, delayMs: number) => {
      const folder = path.join(dir, `w${worker}`);
      const prefix = path.join(folder, 'det');
      await exportAndKill(prefix, delayMs);
      const state = whichSet(await visible(prefix));
      outcomes[state]++;
      expect(state, `after SIGKILL at ${delayMs} ms the visible files mix two exports`).not.toBe('mixed');
      if ((await leftovers(folder, 'det')).length > 0) outcomes.interrupted++;
      // The next export cleans up whatever the killed one left.
      await simA.export(prefix, { formats: FORMATS });
      expect(await leftovers(folder, 'det'), `leftovers after the export that followed SIGKILL at ${delayMs} ms`).toEqual([]);
      expect(whichSet(await visible(prefix))).toBe('A');
    };
    for (let w = 0; w < PARALLEL; w++) {
      await mkdir(path.join(dir, `w${w}`), { recursive: true });
      await simA.export(path.join(dir, `w${w}`, 'det'), { formats: FORMATS });
    }
    const queue = [...delays];
    await Promise.all(
      Array.from({ length: PARALLEL }, async (_, w) => {
        for (let d = queue.shift(); d !== undefined; d = queue.shift()) await trial(w, d);
      }),
    );
    console.log(
      `export crash test: ${TRIALS} SIGKILLs at 0–1200 ms into the export loop; all-old or all-new every time (set A ${outcomes.A}, set B ${outcomes.B}, mixed ${outcomes.mixed}); ${outcomes.interrupted} kills left a write half done, each cleaned by the next export`,
    );
    expect(outcomes.mixed).toBe(0);
    // Kills that land in the middle of a write are what this test is about.
    expect(outcomes.interrupted).toBeGreaterThan(0);
  }, 240_000);

  it('adopts plain files and .tmp/.bak leftovers of older versions without a moment of mixed content', async () => {
    const folder = path.join(dir, 'legacy');
    await mkdir(folder);
    const prefix = path.join(folder, 'det');
    const names = ['encodings', 'onnx', 'ort-overrides.json', 'plan.json'];
    const b = reference.get('B') as Buffer[];
    for (const [i, n] of names.entries()) await writeFile(`${prefix}.${n}`, b[i] as Buffer);
    await writeFile(path.join(folder, '.det.encodings.0123456789ab.tmp'), 'half written');
    await writeFile(path.join(folder, '.det.plan.json.0123456789ab.bak'), 'moved aside');
    await simA.export(prefix, { formats: FORMATS });
    expect(whichSet(await visible(prefix))).toBe('A');
    expect(await leftovers(folder, 'det')).toEqual([]);
    expect((await lstat(`${prefix}.encodings`)).isSymbolicLink()).toBe(true);
    // A later export of fewer formats keeps the others from the live set.
    await simB.export(prefix, { formats: ['plan'] });
    const now = await visible(prefix);
    expect(now[3]?.equals(b[3] as Buffer)).toBe(true);
    expect(now[0]?.equals(reference.get('A')?.[0] as Buffer)).toBe(true);
    expect(await leftovers(folder, 'det')).toEqual([]);
  });
});
