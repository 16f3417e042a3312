import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it, vi } from 'vitest';
import {
  BACKENDS,
  type Backend,
  type BackendProbe,
  BackendUnavailableError,
  createBackendContainer,
  InvalidArgumentError,
  LOGGER,
  probeBackend,
  QuantsimError,
  registerBackend,
  registeredBackends,
  resolveBackend,
  UnknownBackendError,
} from '../src/index.js';

function fakeBackend(name: string, probe: BackendProbe | (() => Promise<BackendProbe>) = { available: true }): Backend {
  return {
    name,
    capabilities: { qdqTypes: new Set(['int8', 'uint8']), fusesQdq: false },
    probe: typeof probe === 'function' ? probe : async () => probe,
    createSession: async () => {
      throw new Error('not used');
    },
  };
}

const missingCuda: BackendProbe = {
  available: false,
  reason: 'onnxruntime-node was installed without its CUDA provider',
  fix: 'Reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12.',
};

function withLogger() {
  const warnings: string[] = [];
  const container = createBackendContainer();
  container.register(LOGGER, { useValue: { warn: (m: string) => warnings.push(m) } });
  return { container, warnings };
}

describe('DI container', () => {
  it('registers and resolves backends with explicit tokens (no decorator metadata needed)', () => {
    const container = createBackendContainer();
    const a = fakeBackend('a');
    container.register(BACKENDS, { useValue: a });
    registerBackend(container, fakeBackend('b'));
    expect(container.resolveAll(BACKENDS)).toHaveLength(2);
    expect(registeredBackends(container).map((b) => b.name)).toEqual(['a', 'b']);
  });

  it('keeps registrations inside the child container they were made in', () => {
    const parent = createBackendContainer();
    registerBackend(parent, fakeBackend('cpu'));
    const one = createBackendContainer(parent);
    const two = createBackendContainer(parent);
    registerBackend(one, fakeBackend('custom'));
    expect(registeredBackends(one).map((b) => b.name)).toEqual(['cpu', 'custom']);
    expect(registeredBackends(two).map((b) => b.name)).toEqual(['cpu']);
    expect(registeredBackends(parent).map((b) => b.name)).toEqual(['cpu']);
    expect(rootContainer.isRegistered(BACKENDS)).toBe(false);
  });

  it('lets a later registration of the same name replace the earlier one', () => {
    const container = createBackendContainer();
    const first = fakeBackend('cpu');
    const second = fakeBackend('cpu');
    registerBackend(registerBackend(container, first), second);
    expect(registeredBackends(container)).toEqual([second]);
  });

  it('rejects objects that are not backends, naming what is wrong', () => {
    const container = createBackendContainer();
    expect(() => registerBackend(container, 'cpu' as unknown as Backend)).toThrow(
      /registerBackend expects a Backend object; received 'cpu'/,
    );
    expect(() => registerBackend(container, { ...fakeBackend('x'), createSession: undefined } as unknown as Backend)).toThrow(
      /the backend 'x' is not a Backend: it has no createSession\(\) method/,
    );
    expect(() => registerBackend(container, { ...fakeBackend(''), name: '' })).toThrow(/its name is '', not a non-empty string/);
    expect(() => registerBackend(container, { ...fakeBackend('y'), capabilities: {} } as unknown as Backend)).toThrow(
      /capabilities are not \{ qdqTypes: Set, fusesQdq: boolean \}/,
    );
    expect(registeredBackends(container)).toEqual([]);
  });
});

describe('resolveBackend', () => {
  it('returns an available backend by name or as an instance', async () => {
    const container = createBackendContainer();
    const cpu = fakeBackend('cpu');
    registerBackend(container, cpu);
    expect(await resolveBackend(container, 'cpu')).toBe(cpu);
    const mine = fakeBackend('mine');
    expect(await resolveBackend(container, mine)).toBe(mine);
  });

  it('lists the registered names for an unknown name, and suggests a close one', async () => {
    const container = createBackendContainer();
    for (const n of ['cpu', 'cuda', 'webgpu']) registerBackend(container, fakeBackend(n));
    const err = await resolveBackend(container, 'cdua').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownBackendError);
    expect((err as QuantsimError).code).toBe('UNKNOWN_BACKEND');
    expect((err as Error).message).toBe(
      "No backend named 'cdua' is registered; the registered backends are 'cpu', 'cuda', 'webgpu'. Did you mean 'cuda'?",
    );
    await expect(resolveBackend(container, 'tensorrt')).rejects.toThrow(
      /registered backends are 'cpu', 'cuda', 'webgpu'\. Check the name, or register your backend with registerBackend/,
    );
    await expect(resolveBackend(createBackendContainer(), 'cpu')).rejects.toThrow(
      /this container has no backends at all\. Register them with registerDefaultBackends\(container\)/,
    );
  });

  it("throws BackendUnavailableError with the probe's reason and fix", async () => {
    const container = createBackendContainer();
    registerBackend(container, fakeBackend('cpu'));
    registerBackend(container, fakeBackend('cuda', missingCuda));
    const err = await resolveBackend(container, 'cuda').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(err).toBeInstanceOf(QuantsimError);
    const e = err as BackendUnavailableError;
    expect(e.code).toBe('BACKEND_UNAVAILABLE');
    expect(e.backend).toBe('cuda');
    expect(e.reason).toBe(missingCuda.reason);
    expect(e.hint).toBe(missingCuda.fix);
    expect(e.message).toBe(
      "Backend 'cuda' is unavailable: onnxruntime-node was installed without its CUDA provider. Reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12.",
    );
  });

  it("falls back to 'cpu' only when asked, and warns once", async () => {
    const { container, warnings } = withLogger();
    const cpu = fakeBackend('cpu');
    registerBackend(container, cpu);
    registerBackend(container, fakeBackend('cuda', missingCuda));
    await expect(resolveBackend(container, 'cuda')).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(warnings).toEqual([]);
    expect(await resolveBackend(container, 'cuda', { fallback: 'cpu' })).toBe(cpu);
    expect(await resolveBackend(container, 'cuda', { fallback: 'cpu' })).toBe(cpu);
    expect(warnings).toEqual([
      "quantsim: backend 'cuda' is unavailable (onnxruntime-node was installed without its CUDA provider); using 'cpu' instead, as fallback: 'cpu' asked. Reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12.",
    ]);
  });

  it('says so when the cpu fallback cannot run either', async () => {
    const { container, warnings } = withLogger();
    registerBackend(
      container,
      fakeBackend('cpu', { available: false, reason: 'the native binding failed to load', fix: 'Reinstall.' }),
    );
    registerBackend(container, fakeBackend('cuda', missingCuda));
    await expect(resolveBackend(container, 'cuda', { fallback: 'cpu' })).rejects.toThrow(
      "Backend 'cuda' is unavailable: onnxruntime-node was installed without its CUDA provider, and the 'cpu' fallback cannot run either: the native binding failed to load. Reinstall.",
    );
    expect(warnings).toEqual([]);
  });

  it('rejects malformed arguments', async () => {
    const container = createBackendContainer();
    registerBackend(container, fakeBackend('cpu'));
    await expect(resolveBackend(container, 'cpu', { fallback: 'gpu' as 'cpu' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(resolveBackend(container, 42 as unknown as string)).rejects.toThrow(
      /resolveBackend expects a Backend object; received 42/,
    );
  });
});

describe('probeBackend', () => {
  it('probes once, sharing one promise between concurrent callers', async () => {
    let calls = 0;
    const slow = fakeBackend('slow', async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { available: true, device: 'fake' };
    });
    const container = registerBackend(createBackendContainer(), slow);
    const results = await Promise.all([
      resolveBackend(container, 'slow'),
      resolveBackend(container, 'slow'),
      probeBackend(slow),
      resolveBackend(createBackendContainer(container), 'slow'),
    ]);
    expect(results[0]).toBe(slow);
    expect(results[2]).toEqual({ available: true, device: 'fake' });
    expect(probeBackend(slow)).toBe(probeBackend(slow));
    expect(calls).toBe(1);
  });

  it('turns a probe that breaks the contract into an unavailable result', async () => {
    const throwing = fakeBackend('throwing', async () => {
      throw new Error('boom');
    });
    expect(await probeBackend(throwing)).toMatchObject({
      available: false,
      reason: 'its probe threw instead of reporting: boom',
    });
    const odd = fakeBackend('odd', async () => 'yes' as unknown as BackendProbe);
    expect(await probeBackend(odd)).toMatchObject({
      available: false,
      reason: "its probe returned 'yes' instead of { available: boolean }",
    });
    const container = registerBackend(createBackendContainer(), throwing);
    await expect(resolveBackend(container, 'throwing')).rejects.toThrow(
      "Backend 'throwing' is unavailable: its probe threw instead of reporting: boom. Report this to the author of the 'throwing' backend",
    );
  });

  it('warns through console.warn when no logger is registered', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const container = createBackendContainer();
      registerBackend(container, fakeBackend('cpu'));
      registerBackend(container, fakeBackend('webgpu', { available: false, reason: 'no adapter' }));
      await resolveBackend(container, 'webgpu', { fallback: 'cpu' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(/backend 'webgpu' is unavailable \(no adapter\); using 'cpu' instead/);
    } finally {
      warn.mockRestore();
    }
  });
});
