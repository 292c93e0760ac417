export const API_ORIGIN = 'https://origin.example.com';
export default { version: 2 };
