/** Opens the event stream a URL names: `memory` (in-process) or `nats://host:port[,nats://...]` (JetStream). */
import { MeridianError, redactUrl } from '../../core/errors.js';
import type { StoreContext } from '../store.js';
import { MemoryEventStream } from './memory.js';
import { NatsEventStream, type NatsTarget } from './nats.js';
import type { EventStream } from './port.js';

const ACCEPTED =
  '"memory", or "nats://host:port" (several separated by commas; "nats://user:password@host:port" for auth)';

function invalidUrl(problem: string): MeridianError {
  return new MeridianError('CONFIG_INVALID', `eventStream: ${problem}; use ${ACCEPTED}`, {
    field: 'eventStream',
    hint: `accepted forms: ${ACCEPTED}`,
  });
}

/** Parses `nats://[user:pass@]host[:port]` entries separated by commas. */
export function parseNatsUrl(url: string): NatsTarget {
  const target: NatsTarget = { servers: [], url };
  for (const entry of url.split(',').map((e) => e.trim())) {
    let parsed: URL;
    try {
      parsed = new URL(entry);
    } catch {
      throw invalidUrl(`${JSON.stringify(redactUrl(entry))} is not a URL`);
    }
    if (
      parsed.protocol !== 'nats:' ||
      !parsed.hostname ||
      (parsed.pathname !== '' && parsed.pathname !== '/')
    ) {
      throw invalidUrl(`${JSON.stringify(redactUrl(entry))} is not a nats://host:port URL`);
    }
    if (parsed.search || parsed.hash)
      throw invalidUrl(`${JSON.stringify(redactUrl(entry))} has a query or fragment`);
    target.servers.push(`${parsed.hostname}:${parsed.port || '4222'}`);
    if (parsed.username) {
      target.user = decodeURIComponent(parsed.username);
      target.pass = decodeURIComponent(parsed.password);
    }
  }
  return target;
}

/** Creates the event stream for `url`; CONFIG_INVALID for an unknown form, STORE_UNAVAILABLE when NATS does not answer. */
export async function createEventStream(url: string, ctx: StoreContext): Promise<EventStream> {
  if (typeof url !== 'string' || url.trim() === '') throw invalidUrl('no event stream URL given');
  const trimmed = url.trim();
  if (trimmed === 'memory') return new MemoryEventStream();
  if (trimmed.startsWith('nats://')) return NatsEventStream.connect(parseNatsUrl(trimmed), ctx.logger);
  throw invalidUrl(`${JSON.stringify(redactUrl(url))} is not a supported event stream URL`);
}
