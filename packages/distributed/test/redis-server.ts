import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Why the Redis tests cannot run here, or undefined when `redis-server` is installed. */
export function redisMissing(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it as root)';
  }
}

/** A redis-server of a test's own, on a free port of 127.0.0.1, with a password. */
export interface TestRedis {
  readonly port: number;
  readonly password: string;
  /** The URL with the password (`rediss://` when the server speaks TLS). */
  readonly url: string;
  /** With TLS: the PEM files, made for this server in its temporary folder. */
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
  stop(): Promise<void>;
}

/**
 * Makes a CA and a server certificate for 127.0.0.1 and localhost (EC P-256, one day) in `dir`
 * with `openssl`. Returns the files, or why they could not be made.
 */
function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } | string {
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    run([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
      '-days',
      '1',
      '-subj',
      '/CN=quantsim test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
    writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run([
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('server.crt'),
      '-days',
      '1',
      '-extfile',
      f('server.ext'),
    ]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    return e.code === 'ENOENT'
      ? 'openssl is not installed (Debian: apt-get install openssl)'
      : `openssl could not make test certificates: ${e.stderr?.toString().trim() || e.message}`;
  }
  return { caFile: f('ca.crt'), certFile: f('server.crt'), keyFile: f('server.key') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts redis-server (no persistence, loopback only) and waits, at most 10 s, until it listens.
 * With `tls`, it listens only on a TLS port (`--port 0 --tls-port`), with certificates made
 * here, and does not ask clients for certificates.
 * @throws Error when it does not start; with TLS, naming why (no openssl, or a redis-server built
 *   without TLS), which {@link startTlsRedis} returns as a reason to skip.
 */
export async function startRedis(password = 'test-secret', tls = false): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quantsim-redis-'));
  const files = tls ? makeCertificates(dir) : undefined;
  if (typeof files === 'string') {
    rmSync(dir, { recursive: true, force: true });
    throw new TlsUnavailable(files);
  }
  const ports = files
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        files.certFile,
        '--tls-key-file',
        files.keyFile,
        '--tls-ca-cert-file',
        files.caFile,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  let log = '';
  const child: ChildProcess = spawn(
    'redis-server',
    [...ports, '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (await answers(port))
      return {
        port,
        password,
        url: `${files ? 'rediss' : 'redis'}://:${password}@127.0.0.1:${port}`,
        ...(files ? { tls: files } : {}),
        stop,
      };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  // Debian's redis-server has TLS; one built without it says so and exits.
  if (files && /tls|ssl/i.test(log) && child.exitCode !== null)
    throw new TlsUnavailable(`redis-server cannot listen with TLS here: ${log.trim().split('\n').slice(-2).join(' ')}`);
  throw new Error(`redis-server did not start on port ${port}: ${log.trim()}`);
}

/** redis-server or openssl cannot give a TLS server here (the reason is the message). */
export class TlsUnavailable extends Error {}

/** A TLS redis-server, or why there cannot be one here (for a skip with that reason). */
export async function startTlsRedis(password = 'test-secret'): Promise<TestRedis | string> {
  try {
    return await startRedis(password, true);
  } catch (error) {
    if (error instanceof TlsUnavailable) return error.message;
    throw error;
  }
}
