import { z } from 'zod';
import type { AppToolConfig, ToolHandlerExtra } from 'sunpeak/mcp';
// Relative, not '@/lib/trips': the npm `sunpeak start` cannot load '@/' imports in tools
// (sunpeak-rs resolves them), and this example runs on both.
import { DESTINATIONS, INTERESTS, STYLES, planTrip } from '../lib/trips';

// A UI tool: linked to the `itinerary` resource, so hosts render the itinerary next to the call.
export const tool: AppToolConfig = {
  resource: 'itinerary',
  title: 'Plan Trip',
  description: `Plan a day-by-day itinerary and show it in an interactive view. Destinations: ${DESTINATIONS.join(', ')}.`,
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
  _meta: { ui: { visibility: ['model', 'app'] } },
};

export const schema = {
  destination: z.string().min(1).describe('City to visit, e.g. "Lisbon"'),
  days: z.number().int().min(1).max(7).default(3).describe('Number of days (1-7)'),
  interests: z
    .array(z.enum(INTERESTS))
    .default([])
    .describe('What to focus on; empty means a mix of everything'),
  travelers: z.number().int().min(1).max(12).default(2).describe('Number of travelers'),
  style: z.enum(STYLES).default('comfort').describe('Travel style'),
};

type Args = z.infer<z.ZodObject<typeof schema>>;

export default async function (args: Args, _extra: ToolHandlerExtra) {
  const itinerary = planTrip(args.destination, args.days, args.interests, args.travelers, args.style);
  const stops = itinerary.days.reduce((n, d) => n + d.stops.length, 0);
  return {
    content: [
      {
        type: 'text' as const,
        text: `Planned ${itinerary.days.length} day(s) in ${itinerary.destination} with ${stops} stops.`,
      },
    ],
    structuredContent: itinerary,
  };
}
