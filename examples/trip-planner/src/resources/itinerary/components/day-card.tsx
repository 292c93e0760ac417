import { INTEREST_LABELS, type Day } from '@/lib/trips';

interface DayCardProps {
  day: Day;
  dropped: ReadonlySet<string>;
  onToggle: (stopId: string) => void;
}

/** One day of the plan: its stops, each of which the user can drop or bring back. */
export function DayCard({ day, dropped, onToggle }: DayCardProps) {
  return (
    <section className="rounded-xl border border-[var(--color-border-primary)] p-3">
      <h2 className="text-sm font-semibold text-trip-accent">{day.title}</h2>
      <ul className="mt-2 space-y-2">
        {day.stops.map((stop) => {
          const isDropped = dropped.has(stop.id);
          return (
            <li key={stop.id} className="flex items-start gap-3">
              <span className="w-20 shrink-0 text-xs uppercase tracking-wide text-[var(--color-text-secondary)]">
                {stop.time}
              </span>
              <div className={`min-w-0 flex-1 ${isDropped ? 'opacity-40 line-through' : ''}`}>
                <div className="text-sm font-medium text-[var(--color-text-primary)]">
                  {stop.name}
                  <span className="ml-2 rounded-full bg-[var(--color-background-secondary)] px-2 py-0.5 text-xs font-normal text-[var(--color-text-secondary)]">
                    {INTEREST_LABELS[stop.interest]}
                  </span>
                </div>
                <p className="text-xs text-[var(--color-text-secondary)]">{stop.note}</p>
              </div>
              <button
                type="button"
                onClick={() => onToggle(stop.id)}
                aria-pressed={isDropped}
                className="shrink-0 rounded-md border border-[var(--color-border-primary)] px-2 py-1 text-xs text-[var(--color-text-primary)] hover:bg-[var(--color-background-secondary)]"
              >
                {isDropped ? 'Keep' : 'Drop'}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
