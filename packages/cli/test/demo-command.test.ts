import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQuantsim } from './support/detector-fixture.js';

describe('quantsim demo', () => {
  it('compares float, W8A8 and a mixed plan on the shipped lines and exports the mixed plan', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'quantsim-demo-')), 'rec');
    // A small run: few lines, and two candidate layers for 16 bits (the full demo measures all 367).
    const r = await runQuantsim([
      'demo',
      '--calib-samples',
      '8',
      '--eval-samples',
      '12',
      '--sensitivity-samples',
      '2',
      '--layers',
      '^p2o\\.Conv\\.(0|1)$',
      '--sensitive',
      '1',
      '--out',
      out,
      '--formats',
      'encodings,plan',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/PaddleOCR PP-OCRv4 recognizer: \d+ layers; 8 calibration and 12 evaluation lines/);
    expect(r.out).toMatch(/configuration\s+plan\s+line accuracy\s+CER/);
    const row = (name: string) => {
      const m = new RegExp(`^${name}\\s+.*?\\s(\\d+\\.\\d)% \\((\\d+)/12\\)\\s+(\\d+\\.\\d\\d)%$`, 'm').exec(r.out);
      expect(m, name).not.toBeNull();
      return { accuracy: Number(m?.[1]), cer: Number(m?.[3]) };
    };
    const float = row('float');
    const w8a8 = row('W8A8');
    row('mixed');
    expect(r.out).toMatch(/mixed\s+a8w8, a16w16 on the 1 most sensitive layers/);
    expect(float.cer).toBeLessThan(2);
    // Per-channel W8A8 (the default) may reach the float CER on these 12 lines; it should not beat it.
    expect(w8a8.cer).toBeGreaterThanOrEqual(float.cer);
    expect(r.out).toMatch(/p2o\.Conv\.(0|1)\s+Conv\s+\d+\.\d dB/);
    expect(existsSync(`${out}.encodings`)).toBe(true);
    expect(existsSync(`${out}.plan.json`)).toBe(true);
    expect(r.err).toMatch(/calibrating W8A8: 8\/8 in/);
    expect(r.err).toMatch(/sensitivity: 4\/4 in/);
    // Several recognizer calibrations and scorings: 2–3 minutes on a 2-core AVX2-only machine.
  }, 600_000);

  it('names the option at fault', async () => {
    const r = await runQuantsim(['demo', '--sensitive', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--sensitive 0: expected a whole number of 1 or more/);
    const d = await runQuantsim(['demo', '--data', '/nonexistent/ocr-lines']);
    expect(d.err).toMatch(/\/nonexistent\/ocr-lines: has no labels\.json/);
  });
});
