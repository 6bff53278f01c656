import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { KaiEvent } from './types';

/** Whether /api/events streams: `connecting`, `live`, `reconnecting`, or `unavailable` (the API is absent: use Refresh). */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

type Listener = (event: KaiEvent | { type: 'resync' }) => void;
interface Events {
  state: LiveState;
  subscribe(listener: Listener): () => void;
}

const EventsContext = createContext<Events>({ state: 'unavailable', subscribe: () => () => undefined });
export const useEvents = () => useContext(EventsContext);

const EVENT_TYPES = ['created', 'started', 'stopped', 'died', 'restarted', 'paused', 'unpaused', 'deleted'].map((t) => `container.${t}`);

/** One EventSource for the whole console; screens subscribe to it. No polling anywhere. */
export function EventsProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<LiveState>('connecting');
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    let opened = false;
    const source = new EventSource('/api/events');
    const emit: Listener = (event) => listeners.current.forEach((listener) => listener(event));
    source.onopen = () => {
      if (opened) emit({ type: 'resync' }); // back after a drop: what we show may be stale
      opened = true;
      setState('live');
    };
    source.onerror = () => {
      // A 404 (events not built yet) or any non-stream answer closes the source for good.
      if (source.readyState === EventSource.CLOSED) setState(opened ? 'reconnecting' : 'unavailable');
      else setState('reconnecting');
    };
    source.addEventListener('resync', () => emit({ type: 'resync' }));
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        try {
          emit(JSON.parse((message as MessageEvent<string>).data) as KaiEvent);
        } catch {
          // not an event we understand
        }
      });
    }
    return () => source.close();
  }, []);

  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo(() => ({ state, subscribe }), [state, subscribe]);
  return <EventsContext.Provider value={value}>{children}</EventsContext.Provider>;
}

/** Calls `listener` for every event while mounted. */
export function useEventListener(listener: Listener): void {
  const { subscribe } = useEvents();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((event) => latest.current(event)), [subscribe]);
}
