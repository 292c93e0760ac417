import { CDN, CSP, REEXPORTED_ORIGIN } from './consts';
import * as consts from './consts';
import originsDefault from '@/config/origins';
import meta from '@/config/meta.json';

const TITLE = 'Widget';

export const resource = {
  title: `${TITLE} v${originsDefault.version}`,
  description: meta.description,
  mimeType: 'text/html;profile=mcp-app',
  tags: [...meta.tags, 'c'],
  _meta: {
    ui: {
      csp: {
        ...CSP,
        resourceDomains: [CDN, REEXPORTED_ORIGIN, consts.CDN + '/img'],
      },
      prefersBorder: true,
    },
  },
} satisfies Record<string, unknown>;

export function WidgetResource() {
  return <p>{TITLE}</p>;
}
