import type { ReactNode } from 'react';

/** Stands in for sunpeak's AppProvider, so that these projects need only react. */
export function AppProvider({
  appInfo,
  children,
}: {
  appInfo: { name: string; version: string };
  children: ReactNode;
}) {
  return (
    <div data-app-name={appInfo.name} data-app-version={appInfo.version}>
      {children}
    </div>
  );
}
