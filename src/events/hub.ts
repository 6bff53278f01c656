import type { KaiEvent, KaiEventInput } from './types.js';

export type EventListener = (event: KaiEvent) => void;

/** What a resuming client gets: the events after its last one, or `gap` when that one is no longer held. */
export interface Replay {
  events: KaiEvent[];
  /** The client's last event is unknown or older than the history: it may have missed events. */
  gap: boolean;
}

/**
 * Numbers events, keeps the most recent ones for Last-Event-ID resume, and
 * hands each to every listener in registration order. Listeners registered
 * as `durable` (the webhook outbox) run before the live ones, so an event is
 * recorded before any client sees it.
 */
export class EventHub {
  /** Distinguishes this process's ids from a previous run's. */
  readonly boot = Date.now().toString(36);
  private sequence = 0;
  private readonly history: KaiEvent[] = [];
  private readonly durable = new Set<EventListener>();
  private readonly live = new Set<EventListener>();

  constructor(
    private readonly capacity: number,
    private readonly onListenerError: (error: unknown) => void = () => undefined,
  ) {}

  publish(input: KaiEventInput): KaiEvent {
    const event: KaiEvent = { id: `${this.boot}-${++this.sequence}`, ...input };
    this.history.push(event);
    if (this.history.length > this.capacity) this.history.splice(0, this.history.length - this.capacity);
    for (const listener of [...this.durable, ...this.live]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return event;
  }

  subscribe(listener: EventListener, options: { durable?: boolean } = {}): () => void {
    const set = options.durable ? this.durable : this.live;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Events after `lastEventId`, from the bounded history. */
  since(lastEventId: string): Replay {
    const [boot, sequenceText] = lastEventId.split('-');
    const sequence = Number(sequenceText);
    if (boot !== this.boot || !Number.isInteger(sequence) || sequence < 0 || sequence > this.sequence) {
      return { events: [...this.history], gap: true };
    }
    const oldest = this.history[0] ? this.sequenceOf(this.history[0]) : this.sequence + 1;
    const events = this.history.filter((event) => this.sequenceOf(event) > sequence);
    // Nothing is lost when the client's last event is still held (or is the one just before the oldest held).
    return { events, gap: sequence < oldest - 1 };
  }

  recent(): KaiEvent[] {
    return [...this.history];
  }

  private sequenceOf(event: KaiEvent): number {
    return Number(event.id.slice(this.boot.length + 1));
  }
}
