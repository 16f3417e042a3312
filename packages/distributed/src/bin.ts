#!/usr/bin/env node
import { workerMain } from './worker-cli.js';

process.exitCode = await workerMain(process.argv.slice(2));
