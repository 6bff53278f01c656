import type Dockerode from 'dockerode';
import { ENGINE_ACTIONS, type EngineAction, type EngineEvent, type EngineEventStream, type FlexyStatus } from '../types.js';
import { LABEL_CONTAINER_PATH, LABEL_HOST_PATH, isOwned, ownershipFilters } from './labels.js';

/** Past this without the engine accepting the subscription, the attempt counts as failed. */
const SUBSCRIBE_TIMEOUT_MS = 5_000;

const STATUS_AFTER: Partial<Record<EngineAction, FlexyStatus>> = {
  create: 'created',
  start: 'running',
  restart: 'running',
  unpause: 'running',
  pause: 'paused',
  die: 'stopped',
  stop: 'stopped',
  destroy: 'removing',
};

/** The engine's JSON event message, as far as Kai reads it. */
interface EngineMessage {
  Type?: string;
  Action?: string;
  id?: string;
  time?: number;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

function toEvent(message: EngineMessage, instance: string): EngineEvent | undefined {
  if (message.Type !== 'container') return undefined;
  const action = message.Action as EngineAction;
  if (!ENGINE_ACTIONS.includes(action)) return undefined;
  const attributes = message.Actor?.Attributes ?? {};
  // The engine filters by label already; checking again keeps a filter mistake from leaking others' containers.
  if (!isOwned(attributes, instance)) return undefined;
  const id = message.Actor?.ID ?? message.id ?? '';
  const time = message.timeNano ? message.timeNano / 1e6 : (message.time ?? 0) * 1000;
  const exitCode = action === 'die' && attributes.exitCode !== undefined ? Number(attributes.exitCode) : null;
  return {
    action,
    id,
    time,
    exitCode: Number.isFinite(exitCode) ? exitCode : null,
    container: {
      id,
      name: attributes.name ?? '',
      // kill changes nothing by itself; the watcher keeps the status it knew.
      status: STATUS_AFTER[action] ?? 'running',
      image: attributes.image ?? '',
      createdAt: new Date(Math.floor(time / 1000) * 1000).toISOString(),
      hostPath: attributes[LABEL_HOST_PATH] ?? null,
      containerPath: attributes[LABEL_CONTAINER_PATH] ?? null,
      // Engine events carry no port bindings; the list and details have them.
      ports: [],
    },
  };
}

/**
 * Subscribes to /events for Kai's containers only (label filters, ANDed by
 * the engine). The returned stream yields events until the connection drops.
 */
export async function watchEngineEvents(docker: Dockerode, instance: string): Promise<EngineEventStream> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SUBSCRIBE_TIMEOUT_MS);
  let raw: NodeJS.ReadableStream;
  try {
    raw = await docker.getEvents({
      filters: { type: ['container'], label: ownershipFilters(instance), event: [...ENGINE_ACTIONS] },
      abortSignal: controller.signal,
    } as Dockerode.GetEventsOptions);
  } finally {
    clearTimeout(timer);
  }
  const close = () => {
    controller.abort();
    (raw as unknown as { destroy?: () => void }).destroy?.();
  };
  async function* iterate(): AsyncGenerator<EngineEvent> {
    let pending = '';
    try {
      for await (const chunk of raw as AsyncIterable<Buffer | string>) {
        pending += chunk.toString();
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (!line) continue;
          let message: EngineMessage;
          try {
            message = JSON.parse(line) as EngineMessage;
          } catch {
            continue;
          }
          const event = toEvent(message, instance);
          if (event) yield event;
        }
      }
    } catch (error) {
      // Closed by Kai: a normal end. Anything else is a lost connection the caller reconnects after.
      if (!controller.signal.aborted) throw error;
    } finally {
      close();
    }
  }
  const iterator = iterate();
  return { close, [Symbol.asyncIterator]: () => iterator };
}
