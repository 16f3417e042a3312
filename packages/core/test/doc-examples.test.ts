import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * The `### Examples` blocks of the builder's TSDoc are code users copy: each is extracted and
 * type-checked against core's public API (what `@quantsim/core` exports), with a few declared
 * stand-ins for the user's own values (a model path, calibration data, feeds).
 */

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILDER = path.resolve(HERE, '../src/builder');

const PRELUDE = `import * as core from '../src/index.js';
import type { Backend, CalibrationData, FeedsLike, Plugin, QuantBuilder } from '../src/index.js';
const { createQuant, mergeCalibrationStats, openStatisticsJob } = core;
declare const quant: (model: string) => QuantBuilder;
declare const calibrationData: CalibrationData;
declare const shard1: CalibrationData;
declare const shard2: CalibrationData;
declare const feeds: FeedsLike;
declare const firstSamples: FeedsLike[];
declare const defaultPlugin: Plugin;
declare const CpuBackend: new () => Backend;
`;

interface Example {
  readonly where: string;
  readonly code: string;
}

/** The ```ts blocks that follow a `### Examples` heading in the TSDoc of a file. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* ### Examples\s*$/.test(lines[i] as string)) continue;
    const open = lines.findIndex((l, k) => k > i && /^\s*\* ```ts\s*$/.test(l));
    const close = lines.findIndex((l, k) => k > open && /^\s*\* ```\s*$/.test(l));
    const code = lines.slice(open + 1, close).map((l) => l.replace(/^\s*\* ?/, ''));
    out.push({ where: `${path.basename(file)}:${i + 1}`, code: code.join('\n') });
    i = close;
  }
  return out;
}

const files = readdirSync(BUILDER)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(BUILDER, f));
const examples = files.flatMap(examplesOf);

describe('TSDoc examples of the builder', () => {
  it('every method of the QuantBuilder interface has an example', () => {
    const text = readFileSync(path.join(BUILDER, 'quant-builder.ts'), 'utf8');
    const methods = [...text.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1] as string);
    const withExample = examplesOf(path.join(BUILDER, 'quant-builder.ts')).length;
    expect(methods.length).toBeGreaterThan(20);
    // One for the interface itself, one per method.
    expect(withExample).toBe(methods.length + 1);
  });

  it('type-check against the public API', () => {
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      experimentalDecorators: true,
      customConditions: ['@quantsim/source'],
      types: ['node'],
      lib: ['lib.es2023.d.ts'],
    };
    const virtual = new Map(
      examples.map((e, i) => [
        path.join(HERE, `__example_${i}.ts`),
        `${PRELUDE}\n// ${e.where}\nexport async function example(): Promise<void> {\n${e.code}\n}\n`,
      ]),
    );
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, version, ...rest) => {
      const text = virtual.get(path.resolve(name));
      return text !== undefined ? ts.createSourceFile(name, text, version) : getSourceFile(name, version, ...rest);
    };
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => virtual.has(path.resolve(name)) || fileExists(name);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => virtual.get(path.resolve(name)) ?? readFile(name);
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && virtual.has(path.resolve(d.file.fileName)))
      .filter((d) => d.code !== 6133 && d.code !== 6196) // unused locals are fine in examples
      .map((d) => {
        const text = (d.file as ts.SourceFile).text;
        const where = /\/\/ (\S+)/.exec(text)?.[1];
        return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(examples.length).toBeGreaterThan(25);
    expect(problems).toEqual([]);
  });
});
