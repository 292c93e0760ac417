// Entry template for every resource. `sunpeak build` writes one copy per resource into .tmp/,
// replacing the two placeholder comments below with the resource's import and its mount call
// (which wraps the component in sunpeak's <AppProvider>). Paths are relative to .tmp/.
import '../src/styles/globals.css';
// @ts-expect-error - used by the generated mount line
import { createRoot } from 'react-dom/client';
// @ts-expect-error - used by the generated mount line
import { AppProvider } from 'sunpeak';
// RESOURCE_IMPORT

const root = document.getElementById('root');
if (root) {
  // RESOURCE_MOUNT
}
