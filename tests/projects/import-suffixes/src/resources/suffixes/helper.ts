export const helper = 'helper imported with an unknown query';
