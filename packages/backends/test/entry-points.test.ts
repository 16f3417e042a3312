import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  sideEffects: boolean;
  exports: Record<string, Record<string, string>>;
};

/** Relative modules `file` loads at run time (type-only imports and exports are erased). */
function runtimeImports(file: string): { relative: string[]; packages: string[] } {
  const source = readFileSync(file, 'utf8');
  const relative: string[] = [];
  const packages: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)';/gms)) {
    const [, typeOnly, specifier = ''] = m;
    if (typeOnly) continue;
    if (specifier.startsWith('.')) relative.push(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
    else packages.push(specifier);
  }
  return { relative, packages };
}

/** Every source file an entry point loads, and the packages they import statically. */
function closure(entry: string): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const imports = runtimeImports(file);
    for (const p of imports.packages) packages.add(p);
    for (const r of imports.relative) visit(r);
  };
  visit(path.join(root, entry));
  return { files: [...seen].map((f) => path.relative(path.join(root, 'src'), f)), packages };
}

describe('entry points', () => {
  it('has ./cpu, ./cuda and ./webgpu with the same conditions as "."', () => {
    const main = pkg.exports['.'];
    expect(Object.keys(pkg.exports)).toEqual(['.', './cpu', './cuda', './webgpu']);
    for (const [subpath, conditions] of Object.entries(pkg.exports)) {
      expect(Object.keys(conditions), subpath).toEqual(Object.keys(main ?? {}));
      const name = subpath === '.' ? 'index' : `${subpath.slice(2)}/index`;
      expect(conditions).toEqual({
        '@quantsim/source': `./src/${name}.ts`,
        types: `./dist/${name}.d.ts`,
        default: `./dist/${name}.js`,
      });
    }
    expect(pkg.sideEffects).toBe(false);
  });

  for (const [backend, others] of [
    ['cpu', ['cuda/', 'webgpu/']],
    ['cuda', ['cpu/', 'webgpu/']],
    ['webgpu', ['cpu/', 'cuda/']],
  ] as const)
    it(`./${backend} loads neither of the other backends, nor onnxruntime-node until used`, () => {
      const { files, packages } = closure(`src/${backend}/index.ts`);
      expect(files.filter((f) => others.some((o) => f.startsWith(o)))).toEqual([]);
      expect(files).toEqual(expect.arrayContaining([`${backend}/${backend}-backend.ts`, 'ort/load-ort.ts']));
      // onnxruntime-node is imported dynamically (ort/load-ort.ts), so its native library loads on first use.
      expect([...packages]).not.toContain('onnxruntime-node');
    });

  it('"." loads onnxruntime-node only on first use too', () => {
    expect([...closure('src/index.ts').packages]).not.toContain('onnxruntime-node');
  });
});
