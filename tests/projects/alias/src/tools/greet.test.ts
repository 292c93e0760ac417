// Test files are not tools.
export const tool = { title: 'not a tool' };
