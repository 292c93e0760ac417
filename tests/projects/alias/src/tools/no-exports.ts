// A tool module without `tool` and default exports: the build warns.
export const schema = {};
