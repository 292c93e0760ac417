import { useState } from 'react';
import { useCallServerTool } from 'sunpeak';
import type { Budget, Itinerary } from '@/lib/trips';

type BudgetState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'done'; budget: Budget }
  | { status: 'error'; message: string };

/** Asks the server's `estimate-budget` tool what the plan costs and shows the answer. */
export function BudgetPanel({ itinerary }: { itinerary: Itinerary }) {
  const callServerTool = useCallServerTool();
  const [state, setState] = useState<BudgetState>({ status: 'idle' });

  const estimate = async () => {
    setState({ status: 'loading' });
    try {
      const result = await callServerTool({
        name: 'estimate-budget',
        arguments: {
          days: itinerary.days.length,
          travelers: itinerary.travelers,
          style: itinerary.style,
          destination: itinerary.destination,
        },
      });
      const budget = result?.structuredContent as Budget | undefined;
      if (!result || result.isError || !budget) {
        const text = result?.content?.find((c) => c.type === 'text')?.text;
        setState({ status: 'error', message: text ?? 'No budget came back.' });
        return;
      }
      setState({ status: 'done', budget });
    } catch (err) {
      setState({ status: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  };

  return (
    <div className="rounded-xl bg-[var(--color-background-secondary)] p-3 text-sm">
      {state.status === 'done' ? (
        <div>
          <div className="font-semibold text-[var(--color-text-primary)]">
            About EUR {state.budget.total.toLocaleString()} in total
          </div>
          <div className="text-xs text-[var(--color-text-secondary)]">
            EUR {state.budget.perPersonPerDay} per person per day, {state.budget.style}: lodging{' '}
            {state.budget.breakdown.lodging}, food {state.budget.breakdown.food}, activities{' '}
            {state.budget.breakdown.activities}, transport {state.budget.breakdown.transport}
          </div>
        </div>
      ) : (
        <div className="flex items-center justify-between gap-3">
          <span className="text-[var(--color-text-secondary)]">
            {state.status === 'error' ? `Budget failed: ${state.message}` : 'What will it cost?'}
          </span>
          <button
            type="button"
            onClick={estimate}
            disabled={state.status === 'loading'}
            className="rounded-md bg-trip-accent px-3 py-1 text-xs font-medium text-white disabled:opacity-50"
          >
            {state.status === 'loading' ? 'Estimating…' : 'Estimate budget'}
          </button>
        </div>
      )}
    </div>
  );
}
