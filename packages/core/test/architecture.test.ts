import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The folder tree is the road: load → graph → plan → calibrate → encode → simulate → export, with
 * the builder on top. This test reads every relative import of packages/*\/src and fails on an
 * edge that goes up the road (a folder importing a later stage) and on a cycle between folders
 * of any package, naming the file and the import.
 */

const PACKAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Folders of packages/core/src in road order; each may import only from folders before it. */
export const CORE_ROAD = [
  'contracts',
  'errors',
  'io',
  'onnx',
  'graph',
  'model',
  'transform',
  'plan',
  'calibrate',
  'encode',
  'simulate',
  'export',
  'backend',
  'builder',
] as const;

interface ImportEdge {
  /** File, relative to packages/. */
  readonly file: string;
  readonly specifier: string;
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Edges between top-level folders of one package's src (files directly in src/ are folder `.`). */
function folderEdges(pkg: string): ImportEdge[] {
  const src = path.join(PACKAGES, pkg, 'src');
  const folderOf = (file: string) => {
    const rel = path.relative(src, file);
    return rel.includes(path.sep) ? (rel.split(path.sep)[0] as string) : '.';
  };
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const specifier = (m[1] ?? m[2]) as string;
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(src + path.sep)) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.push({ file: path.relative(PACKAGES, file), specifier, from, to });
    }
  }
  return edges;
}

/** Folder cycles: for each strongly connected set of two or more folders, one edge inside it. */
function cycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.from === '.' || e.to === '.') continue; // the package index re-exports everything
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)?.add(e.to);
  }
  const reaches = (a: string, b: string) => {
    const seen = new Set<string>();
    const stack = [a];
    while (stack.length > 0) {
      const x = stack.pop() as string;
      if (x === b) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      stack.push(...(next.get(x) ?? []));
    }
    return false;
  };
  return edges
    .filter((e) => e.from !== '.' && e.to !== '.' && reaches(e.to, e.from))
    .map((e) => `${e.file} imports '${e.specifier}' (${e.from}/ → ${e.to}/), and ${e.to}/ imports ${e.from}/ back`);
}

const packages = readdirSync(PACKAGES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && readdirSync(path.join(PACKAGES, e.name)).includes('src'))
  .map((e) => e.name);

describe('the folder tree is the road', () => {
  it('packages/core/src has exactly the road folders, in a known order', () => {
    const folders = readdirSync(path.join(PACKAGES, 'core/src'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual([...CORE_ROAD].sort());
  });

  it('no folder of packages/core/src imports a later stage', () => {
    const rank = new Map<string, number>(CORE_ROAD.map((f, i) => [f, i]));
    const upward = folderEdges('core')
      .filter((e) => e.from !== '.' && (rank.get(e.to) ?? -1) > (rank.get(e.from) ?? -1))
      .map((e) => `${e.file} imports '${e.specifier}': ${e.from}/ must not import the later stage ${e.to}/`);
    expect(upward).toEqual([]);
  });

  it('contracts/ is a leaf: it imports nothing else from core', () => {
    const out = folderEdges('core')
      .filter((e) => e.from === 'contracts')
      .map((e) => `${e.file} imports '${e.specifier}'`);
    expect(out).toEqual([]);
  });

  it.each(packages)('packages/%s/src has no folder cycle', (pkg) => {
    expect(cycles(folderEdges(pkg))).toEqual([]);
  });

  it('the walk sees the imports (guards against a regexp that matches nothing)', () => {
    const edges = folderEdges('core');
    expect(edges.some((e) => e.from === 'builder' && e.to === 'plan')).toBe(true);
    expect(edges.some((e) => e.from === '.' && e.to === 'builder')).toBe(true);
  });
});
