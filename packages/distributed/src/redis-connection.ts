import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { QueueError } from './queue-error.js';

/**
 * TLS settings of a `rediss://` connection, as PEM files (paths, so that local worker processes
 * and `quantsim-worker --tls-ca FILE` take the same). Without them the system's CAs are trusted
 * (and `NODE_EXTRA_CA_CERTS`), and no client certificate is sent.
 */
export interface RedisTls {
  /** The CA that signed the server's certificate (for a private or self-signed CA). */
  readonly caFile?: string;
  /** This client's certificate, for a server that checks clients (`tls-auth-clients yes`). */
  readonly certFile?: string;
  /** The key of `certFile`. */
  readonly keyFile?: string;
}

/** A Redis URL with its password replaced by `***`, for messages and logs. */
export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable Redis URL>';
  }
}

/** Checks a Redis URL's form: `redis://[user][:password@]host[:port][/db]` or `rediss://…` (TLS). */
export function checkRedisUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '')
    throw new QueueError('A Redis URL is required, for example redis://127.0.0.1:6379.', {
      hint: 'Pass { redis: "redis://:password@host:6379" } (rediss:// for TLS).',
    });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(`'${maskRedisUrl(url)}' is not a URL.`, {
      hint: 'Use redis://[:password@]host[:port][/db], or rediss:// for TLS.',
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new QueueError(`The Redis URL must start with redis:// or rediss://, received ${parsed.protocol}//.`, {
      hint: 'For example redis://:password@10.0.0.5:6379, or rediss://… for TLS.',
    });
  return url;
}

/** Checks `tls` against the URL and reads its files into Node's TLS options. */
function tlsOptions(url: string, tls: RedisTls | undefined): ConnectionOptions | undefined {
  if (!tls || (tls.caFile === undefined && tls.certFile === undefined && tls.keyFile === undefined)) return undefined;
  if (!url.startsWith('rediss://'))
    throw new QueueError(`TLS files were given for ${maskRedisUrl(url)}, which does not use TLS.`, {
      hint: 'Use a rediss:// URL for a TLS port, or leave out the TLS files.',
    });
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
    throw new QueueError('A client certificate needs both its certificate file and its key file.', {
      hint: 'Give tls.certFile and tls.keyFile (--tls-cert and --tls-key) together, or neither.',
    });
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new QueueError(`Cannot read the TLS ${what} file '${file}' (${(error as Error).message}).`, {
        hint: 'Give the path of a PEM file this process can read.',
        cause: error,
      });
    }
  };
  return {
    ...(tls.caFile !== undefined ? { ca: read(tls.caFile, 'CA') } : {}),
    ...(tls.certFile !== undefined ? { cert: read(tls.certFile, 'certificate') } : {}),
    ...(tls.keyFile !== undefined ? { key: read(tls.keyFile, 'key') } : {}),
  };
}

/**
 * Opens a connection as BullMQ wants it (no per-command retry limit), after checking that the
 * server answers and accepts the credentials: a wrong password is one clear error, not an
 * endless reconnect loop. `tls` adds a CA or a client certificate to a `rediss://` connection.
 *
 * @throws QueueError naming the server (password masked) and what it said.
 */
export async function connectRedis(url: string, name: string, tls?: RedisTls): Promise<Redis> {
  checkRedisUrl(url);
  const where = maskRedisUrl(url);
  const secure = tlsOptions(url, tls);
  const probe = new Redis(url, {
    ...(secure ? { tls: secure } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: 5000,
    connectionName: `${name}-check`,
  });
  // ioredis reports a refused AUTH as an event and then rejects with "Connection is closed":
  // the event's error is the one that says why.
  let reported: unknown;
  probe.on('error', (error: unknown) => {
    reported ??= error;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw redisError(reported ?? error, where, url.startsWith('rediss://'));
  } finally {
    probe.disconnect();
  }
  const client = new Redis(url, { ...(secure ? { tls: secure } : {}), maxRetriesPerRequest: null, connectionName: name });
  client.on('error', () => undefined);
  return client;
}

function redisError(error: unknown, where: string, secure: boolean): QueueError {
  const text = error instanceof Error ? error.message : String(error);
  if (/self[- ]signed|unable to (verify|get local issuer)|certificate|altnames|CERT_/i.test(text))
    return new QueueError(`Redis at ${where}: the server's TLS certificate was not accepted (${text}).`, {
      hint: 'Trust its CA: { tls: { caFile } } (quantsim-worker --tls-ca FILE, or NODE_EXTRA_CA_CERTS), and connect by a name or IP the certificate lists.',
      cause: error,
    });
  if (secure && /wrong version number|packet length too long|unknown protocol|ssl|tls/i.test(text))
    return new QueueError(`Redis at ${where} did not answer TLS (${text}).`, {
      hint: "Use redis:// for a port without TLS, or the server's tls-port with rediss://.",
      cause: error,
    });
  if (!secure && /Connection is closed|ECONNRESET|socket hang up/i.test(text))
    return new QueueError(`Redis at ${where} closed the connection before answering (${text}).`, {
      hint: 'If that port speaks TLS (redis-server --tls-port), use a rediss:// URL, with { tls: { caFile } } for a private CA.',
      cause: error,
    });
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text))
    return new QueueError(`Redis at ${where} refused the password (${text}).`, {
      hint: 'Check the password in the URL: redis://:password@host:port (or redis://user:password@host:port).',
      cause: error,
    });
  if (/NOAUTH/i.test(text))
    return new QueueError(`Redis at ${where} requires a password and none was given (${text}).`, {
      hint: 'Put it in the URL: redis://:password@host:port.',
      cause: error,
    });
  if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|connect/i.test(text))
    return new QueueError(`Cannot reach Redis at ${where} (${text}).`, {
      hint: secure
        ? 'Check that redis-server runs there, that host and port are right, and that the port is its tls-port (a plain port leaves a TLS client waiting; use redis:// there).'
        : 'Check that redis-server runs there and that host and port are right.',
      cause: error,
    });
  return new QueueError(`Redis at ${where} failed: ${text}.`, { cause: error });
}
