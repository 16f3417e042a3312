import type { Rule } from '@quantsim/core';

/** `unknown-backend`: the backend chosen with `.backend(name)` must be registered. */
export const unknownBackendRule: Rule = {
  name: 'unknown-backend',
  phases: ['plan'],
  check(ctx) {
    if (ctx.backendNames.includes(ctx.backend)) return [];
    return [
      {
        code: 'UNKNOWN_BACKEND',
        severity: 'error',
        message: `Backend '${ctx.backend}' is not registered.`,
        hint: `Registered backends: ${ctx.backendNames.join(', ') || 'none'}. Register yours with registerBackend(container, backend) or .use({ name, backends: [backend] }).`,
      },
    ];
  },
};
