#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  // Live bars only when a person watches; piped or redirected output gets plain lines.
  ...(process.stdout.isTTY && process.stderr.isTTY ? { terminal: process.stderr } : {}),
});
process.exitCode = code;
