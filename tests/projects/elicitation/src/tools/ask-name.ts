import { z } from 'zod';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { AppToolConfig, ToolHandlerExtra } from 'sunpeak/mcp';

// A plain tool that asks the user for their name (form elicitation) and greets them. In the
// legacy era the server sends `elicitation/create` to the client; in the 2026-07-28 era the call
// is answered `input_required` and this handler runs again, from the start, once the client
// retries with the answer.
export const tool: AppToolConfig = {
  title: 'Ask Name',
  description: "Asks the user for their name and greets them",
  annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
};

export const schema = {
  greeting: z.string().default('Hello').describe('How to greet'),
};

type Args = z.infer<z.ZodObject<typeof schema>>;

export default async function handler(args: Args, extra: ToolHandlerExtra) {
  const answer = await extra.sendRequest(
    {
      method: 'elicitation/create',
      params: {
        message: 'What is your name?',
        requestedSchema: {
          type: 'object',
          properties: { name: { type: 'string', description: 'Your name' } },
          required: ['name'],
        },
      },
    },
    ElicitResultSchema,
  );
  if (answer.action !== 'accept' || typeof answer.content?.name !== 'string') {
    return { content: [{ type: 'text' as const, text: `No name given (${answer.action}).` }] };
  }
  const name = answer.content.name;
  return {
    content: [{ type: 'text' as const, text: `${args.greeting}, ${name}!` }],
    structuredContent: { name },
  };
}
