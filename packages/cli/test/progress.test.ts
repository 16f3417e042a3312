import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.js';

describe('progress', () => {
  it('prints plain lines at each quarter and the time taken when there is no terminal', () => {
    const lines: string[] = [];
    const task = createProgress({ line: (l) => lines.push(l) })('calibrating', 8);
    for (let i = 1; i <= 8; i++) task.update(i);
    task.finish();
    expect(lines.slice(0, -1)).toEqual(['calibrating: 1/8', 'calibrating: 2/8', 'calibrating: 4/8', 'calibrating: 6/8']);
    expect(lines.at(-1)).toMatch(/^calibrating: 8\/8 in \d+\.\d s$/);
  });

  it('draws a bar on a terminal stream and ends with one line', () => {
    let drawn = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          drawn += String(chunk);
          done();
        },
      }),
      { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true },
    );
    const lines: string[] = [];
    const task = createProgress({ terminal, line: (l) => lines.push(l) })('evaluating', 4);
    task.update(2, 'line 2');
    task.finish();
    expect(drawn).toMatch(/evaluating/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^evaluating: 4\/4 in/);
  });
});
