import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/program.js';

/** `quantsim worker` hands its options to @quantsim/distributed's workerMain. */
describe('quantsim worker', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture(): { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    return { out, err };
  }
  const io = { out: () => undefined, err: () => undefined };

  it('prints the worker usage for --help', async () => {
    const { out } = capture();
    expect(await runCli(['worker', '--help'], io)).toBe(0);
    expect(out.join('')).toMatch(/Usage: quantsim-worker --redis URL/);
  });

  it('fails with a message naming --redis when no server is given', async () => {
    const { err } = capture();
    const saved = process.env.QUANTSIM_REDIS_URL;
    delete process.env.QUANTSIM_REDIS_URL;
    try {
      expect(await runCli(['worker', '--queue', 'q'], io)).not.toBe(0);
    } finally {
      if (saved !== undefined) process.env.QUANTSIM_REDIS_URL = saved;
    }
    expect(err.join('')).toMatch(/--redis URL \(or QUANTSIM_REDIS_URL\) is required/);
  });
});
