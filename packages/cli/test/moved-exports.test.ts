import * as analyze from '@quantsim/analyze';
import * as data from '@quantsim/data';
import { describe, expect, it } from 'vitest';
import * as cli from '../src/index.js';

const cliExports: Record<string, unknown> = { ...cli };

describe('names moved out of @quantsim/cli', () => {
  it('are still exported by the CLI, as the very values of @quantsim/analyze and @quantsim/data', () => {
    // DataInputError and ocrModelsAssetsDir are new in @quantsim/data; the CLI never exported them.
    const moved = Object.entries({ ...analyze, ...data }).filter(([n]) => n !== 'DataInputError' && n !== 'ocrModelsAssetsDir');
    expect(moved.length).toBeGreaterThan(30);
    for (const [name, value] of moved) expect(cliExports[name], name).toBe(value);
  });

  it('leave the CLI its commands', () => {
    for (const name of ['runCli', 'createProgram', 'analyzeCommand', 'demoCommand', 'inspectCommand', 'quantizeCommand'])
      expect(cliExports[name], name).toBeTypeOf('function');
  });
});
