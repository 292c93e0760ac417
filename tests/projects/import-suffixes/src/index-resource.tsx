import '../src/styles/globals.css';
import { createRoot } from 'react-dom/client';
import { AppProvider } from '../src/app-provider';
// RESOURCE_IMPORT

const root = document.getElementById('root');
if (root) {
  // RESOURCE_MOUNT
}
