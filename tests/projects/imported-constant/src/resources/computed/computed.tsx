import { LIB_ORIGIN } from 'demo-lib';
import { computeDomain } from './domain';

const APP_URL = 'https://app.example.com/mcp';

export const resource = {
  title: 'Computed',
  _meta: {
    ui: {
      domain: { claude: computeDomain(APP_URL) },
      csp: { resourceDomains: [LIB_ORIGIN] },
    },
  },
};

export function ComputedResource() {
  return <p>computed</p>;
}
