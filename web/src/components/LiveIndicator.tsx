import type { LiveState } from '../events';
import { cn } from './ui';

const text: Record<LiveState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Live updates not available (no /api/events): use Refresh',
};

export function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span className="flex items-center gap-1.5 text-xs text-zinc-500" data-live={state} title={text[state]}>
      <span className={cn('size-2 rounded-full', state === 'live' ? 'bg-emerald-500' : state === 'unavailable' ? 'bg-zinc-400' : 'bg-amber-500')} aria-hidden />
      <span className={cn(state === 'unavailable' ? 'max-w-56 truncate' : '')}>{state === 'unavailable' ? 'Not live' : text[state]}</span>
      <span className="sr-only">{text[state]}</span>
    </span>
  );
}
