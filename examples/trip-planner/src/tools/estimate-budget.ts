import { z } from 'zod';
import type { AppToolConfig, ToolHandlerExtra } from 'sunpeak/mcp';
import { STYLES, estimateBudget } from '../lib/trips';

// A plain tool: no resource, so hosts show its text result. The itinerary view also calls it
// through `useCallServerTool` to show a budget for the plan on screen.
export const tool: AppToolConfig = {
  title: 'Estimate Budget',
  description: 'Estimate the cost of a trip in EUR: lodging, food, activities and transport.',
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
};

export const schema = {
  days: z.number().int().min(1).max(30).describe('Number of days'),
  travelers: z.number().int().min(1).max(12).default(1).describe('Number of travelers'),
  style: z.enum(STYLES).default('comfort').describe('Travel style'),
  destination: z.string().optional().describe('City, for its price level (optional)'),
};

const amounts = z.object({
  lodging: z.number(),
  food: z.number(),
  activities: z.number(),
  transport: z.number(),
});

// The shape of structuredContent; the server checks results against it.
export const outputSchema = {
  currency: z.literal('EUR'),
  days: z.number(),
  travelers: z.number(),
  style: z.enum(STYLES),
  priceLevel: z.number(),
  perPersonPerDay: z.number(),
  total: z.number(),
  breakdown: amounts,
};

type Args = z.infer<z.ZodObject<typeof schema>>;

export default async function (args: Args, _extra: ToolHandlerExtra) {
  const budget = estimateBudget(args.days, args.travelers, args.style, args.destination);
  const who = budget.travelers === 1 ? '1 traveler' : `${budget.travelers} travelers`;
  return {
    content: [
      {
        type: 'text' as const,
        text: `Estimated budget for ${who}, ${budget.days} day(s) (${budget.style}): EUR ${budget.total} (EUR ${budget.perPersonPerDay} per person per day).`,
      },
    ],
    structuredContent: budget,
  };
}
