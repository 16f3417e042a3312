import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** How a child process ended. */
export interface ChildOutcome {
  /** The exit code; null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it (SIGSEGV for a native crash), or null. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a TypeScript script in a child Node process (through tsx, with the workspace's source
 * condition), so that a native crash inside ONNX Runtime (SIGSEGV) fails the test that ran it
 * instead of killing the test runner. `env` adds variables to the child's environment.
 */
export function runTsChild(
  script: string,
  args: readonly string[],
  timeoutMs = 300_000,
  env: Readonly<Record<string, string>> = {},
): Promise<ChildOutcome> {
  const tsx = require.resolve('tsx');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, '--conditions=@quantsim/source', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
