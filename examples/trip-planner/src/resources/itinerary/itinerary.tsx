import { useMemo } from 'react';
import {
  SafeArea,
  useAppState,
  useDisplayMode,
  useHostInfo,
  useRequestDisplayMode,
  useToolData,
} from 'sunpeak';
import type { ResourceConfig } from 'sunpeak';
import type { Itinerary } from '@/lib/trips';
import { BudgetPanel } from './components/budget-panel';
import { DayCard } from './components/day-card';

export const resource: ResourceConfig = {
  title: 'Itinerary',
  description: 'A day-by-day trip plan the user can trim, with a budget estimate',
  mimeType: 'text/html;profile=mcp-app',
  _meta: {
    ui: {
      prefersBorder: true,
    },
  },
};

interface PlanInput {
  destination?: string;
  days?: number;
}

/** What the model sees of the user's edits (sent to the host on every change). */
interface ItineraryState {
  dropped: string[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function ItineraryResource() {
  const { input, output, isLoading, isError, isCancelled, cancelReason } = useToolData<
    PlanInput,
    Itinerary
  >();
  const [state, setState] = useAppState<ItineraryState>({ dropped: [] });
  const { hostCapabilities } = useHostInfo();
  const displayMode = useDisplayMode();
  const { requestDisplayMode, availableModes } = useRequestDisplayMode();
  const dropped = useMemo(() => new Set(state.dropped), [state.dropped]);

  const toggle = (stopId: string) =>
    setState((prev) => ({
      dropped: prev.dropped.includes(stopId)
        ? prev.dropped.filter((id) => id !== stopId)
        : [...prev.dropped, stopId],
    }));

  if (isLoading) {
    return (
      <SafeArea className="p-6 text-sm text-[var(--color-text-secondary)]">
        Planning {input?.days ?? ''} days in {input?.destination ?? 'your destination'}…
      </SafeArea>
    );
  }
  if (isCancelled) {
    return (
      <SafeArea className="p-6 text-sm text-[var(--color-text-secondary)]">
        {cancelReason ?? 'The plan was cancelled.'}
      </SafeArea>
    );
  }
  if (isError || !output) {
    return (
      <SafeArea className="p-6 text-sm text-[var(--color-text-secondary)]">
        No itinerary to show.
      </SafeArea>
    );
  }

  const stops = output.days.reduce((n, d) => n + d.stops.length, 0);
  const canFullscreen = displayMode !== 'fullscreen' && (availableModes?.includes('fullscreen') ?? false);

  return (
    <SafeArea className="space-y-3 p-4">
      <header className="flex items-start justify-between gap-2">
        <div>
          <h1 className="text-lg font-semibold text-[var(--color-text-primary)]">
            {output.destination}, {output.country}
          </h1>
          <p className="text-xs text-[var(--color-text-secondary)]">
            {plural(output.days.length, 'day')} · {plural(output.travelers, 'traveler')} ·{' '}
            {output.style} ·{' '}
            {stops - dropped.size} of {stops} stops kept
          </p>
        </div>
        {canFullscreen && (
          <button
            type="button"
            onClick={() => requestDisplayMode('fullscreen')}
            className="rounded-md border border-[var(--color-border-primary)] px-2 py-1 text-xs text-[var(--color-text-primary)]"
          >
            Fullscreen
          </button>
        )}
      </header>
      {output.days.map((day) => (
        <DayCard key={day.day} day={day} dropped={dropped} onToggle={toggle} />
      ))}
      {hostCapabilities?.serverTools && <BudgetPanel itinerary={output} />}
    </SafeArea>
  );
}
