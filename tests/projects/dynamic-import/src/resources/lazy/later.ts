export const LATER = 'loaded later';
