import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GraphStructureError, GraphView, ModelBuilder, QUANTSIM_ERROR_CODES, QuantsimError } from '../src/index.js';

const PACKAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Library packages: every error they throw is a QuantsimError. */
const LIBRARIES = ['core', 'plugins', 'backends', 'quantsim', 'analyze', 'data', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const allSources = readdirSync(PACKAGES)
  .filter((p) => readdirSync(path.join(PACKAGES, p)).includes('src'))
  .flatMap((p) => sources(path.join(PACKAGES, p, 'src')));
const catalogue = path.join(PACKAGES, 'core/src/errors/codes.ts');

describe('the error catalogue', () => {
  it.each(Object.keys(QUANTSIM_ERROR_CODES))('code %s is used by some error that is thrown', (code) => {
    const users = allSources.filter((f) => f !== catalogue && readFileSync(f, 'utf8').includes(`'${code}'`));
    expect(
      users.map((f) => path.relative(PACKAGES, f)),
      `no source file outside errors/codes.ts uses '${code}'`,
    ).not.toEqual([]);
  });

  it('every error class of core lives in core/src/errors/', () => {
    const misplaced = sources(path.join(PACKAGES, 'core/src'))
      .filter((f) => !f.includes(`${path.sep}errors${path.sep}`))
      .flatMap((f) =>
        [...readFileSync(f, 'utf8').matchAll(/^export class (\w+) extends \w*Error\b/gm)].map(
          (m) => `${path.relative(PACKAGES, f)}: class ${m[1]}`,
        ),
      );
    expect(misplaced).toEqual([]);
  });

  it('library code throws only QuantsimErrors: no bare Error, TypeError or RangeError', () => {
    const bare = LIBRARIES.flatMap((p) => sources(path.join(PACKAGES, p, 'src'))).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          /\bnew (Error|TypeError|RangeError)\(/.test(line) && !line.includes('return new Error(') // toError normalises causes
            ? [`${path.relative(PACKAGES, f)}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(bare).toEqual([]);
  });

  it('GraphStructureError is a QuantsimError with its code and a hint', () => {
    const b = new ModelBuilder({ opset: 13 });
    const x = b.input('x', 'float32', [1]);
    b.node('Relu', [x], { outputs: ['y'] });
    b.node('Relu', [x], { outputs: ['y'] });
    b.output('y', 'float32', [1]);
    const proto = b.buildProto();
    let caught: unknown;
    try {
      new GraphView(proto.graph as never);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GraphStructureError);
    expect(caught).toBeInstanceOf(QuantsimError);
    expect((caught as QuantsimError).code).toBe('GRAPH_STRUCTURE');
    expect((caught as QuantsimError).message).toMatch(/tensor 'y' is produced twice.*onnx\.checker/);
  });
});
