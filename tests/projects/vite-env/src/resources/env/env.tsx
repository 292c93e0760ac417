export const resource = { title: 'Env', description: 'import.meta.env from .env files' };

export function EnvResource() {
  const keys = Object.keys(import.meta.env).filter((k) => k.startsWith('VITE_'));
  return (
    <ul>
      <li>greeting: {import.meta.env.VITE_GREETING}</li>
      <li>overridden: {import.meta.env.VITE_OVERRIDDEN}</li>
      <li>local: {import.meta.env.VITE_LOCAL}</li>
      <li>production local: {import.meta.env.VITE_PROD_LOCAL}</li>
      <li>from process: {import.meta.env.VITE_FROM_PROCESS}</li>
      <li>only in process: {import.meta.env.VITE_ONLY_IN_PROCESS}</li>
      <li>expanded: {import.meta.env.VITE_API_URL}</li>
      <li>quoted: {import.meta.env.VITE_QUOTED}</li>
      <li>multiline: {JSON.stringify(import.meta.env.VITE_MULTILINE)}</li>
      <li>missing: {String(import.meta.env.VITE_MISSING)}</li>
      <li>dev only: {String(import.meta.env.VITE_DEV_ONLY)}</li>
      <li>mode: {import.meta.env.MODE}</li>
      <li>keys: {keys.join(',')}</li>
    </ul>
  );
}
