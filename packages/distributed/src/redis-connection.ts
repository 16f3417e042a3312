import { Redis } from 'ioredis';
import { QueueError } from './queue-error.js';

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

/**
 * Opens a connection as BullMQ wants it (no per-command retry limit), after checking that the
 * server answers and accepts the credentials: a wrong password is one clear error, not an
 * endless reconnect loop.
 *
 * @throws QueueError naming the server (password masked) and what it said.
 */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  checkRedisUrl(url);
  const where = maskRedisUrl(url);
  const probe = new Redis(url, {
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
    throw redisError(reported ?? error, where);
  } finally {
    probe.disconnect();
  }
  const client = new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
  client.on('error', () => undefined);
  return client;
}

function redisError(error: unknown, where: string): QueueError {
  const text = error instanceof Error ? error.message : String(error);
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
      hint: 'Check that redis-server runs there and that host and port are right.',
      cause: error,
    });
  return new QueueError(`Redis at ${where} failed: ${text}.`, { cause: error });
}
