// SPDX-License-Identifier: MIT
// The shell: sign-in, the header with the logo and the pages this key may see, and the page itself.
// Pages with heavy libraries (charts, maps) are loaded on demand, so the first load stays small.
import { lazy, Suspense } from 'preact/compat';
import { useEffect, useState } from 'preact/hooks';
import { onSessionChange, type Session, session, signOut } from './api';
import logo from './logo.svg';
import { AlarmsPage } from './pages/alarms';
import { ListenersPage } from './pages/listeners';
import { PipelinePage } from './pages/pipeline';
import { SignIn } from './pages/sign-in';
import { TargetsPage } from './pages/targets';
import { href, type Route, useRoute } from './router';
import { useLiveStatus } from './util';

const TargetPage = lazy(() => import('./pages/target').then((m) => ({ default: m.TargetPage })));
const MapPage = lazy(() => import('./pages/map').then((m) => ({ default: m.MapPage })));

interface NavItem {
  readonly page: string;
  readonly label: string;
  readonly scopes: readonly Session['scope'][];
}

export const navItems: readonly NavItem[] = [
  { page: 'targets', label: 'Targets', scopes: ['admin', 'listener'] },
  { page: 'map', label: 'Map', scopes: ['admin'] },
  { page: 'alarms', label: 'Alarms', scopes: ['admin'] },
  { page: 'listeners', label: 'Listeners & keys', scopes: ['admin'] },
  { page: 'pipeline', label: 'Pipeline', scopes: ['admin'] },
];

export function App() {
  const [s, setS] = useState(session());
  useEffect(() => onSessionChange(setS), []);
  if (s === null) return <SignIn />;
  return <Shell session={s} />;
}

function Shell({ session: s }: { session: Session }) {
  const route = useRoute();
  const items = navItems.filter((n) => n.scopes.includes(s.scope));
  const current = route.page === 'target' ? 'targets' : route.page;
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href('targets')}>
          <img src={logo} alt="" width={28} height={28} />
          <span>tmiDB Console</span>
        </a>
        <nav>
          {items.map((n) => (
            <a key={n.page} href={href(n.page)} class={current === n.page ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <LiveBadge />
        <span class="who" title={`expires ${s.expiresAt}`}>
          {s.keyName} · {s.scope}
          {s.listener ? ` · ${s.listener}` : ''}
        </span>
        <button type="button" class="ghost" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Suspense fallback={<p class="muted">Loading…</p>}>
          <Page route={route} session={s} />
        </Suspense>
      </main>
    </div>
  );
}

function LiveBadge() {
  const status = useLiveStatus();
  if (status === 'none') return null;
  return (
    <span class={`live ${status}`} data-live={status}>
      {status === 'live' ? '● live' : status === 'connecting' ? '○ connecting' : '○ offline'}
    </span>
  );
}

function Page({ route, session: s }: { route: Route; session: Session }) {
  if (s.scope === 'speaker') {
    return (
      <p class="panel">
        This is a speaker key: it may write events but read nothing. Sign in with an admin or listener key.
      </p>
    );
  }
  const allowed =
    route.page === 'target' || navItems.some((n) => n.page === route.page && n.scopes.includes(s.scope));
  if (!allowed) return <p class="panel">This key may not see this page.</p>;
  switch (route.page) {
    case 'target':
      return <TargetPage id={route.id ?? ''} session={s} />;
    case 'map':
      return <MapPage />;
    case 'alarms':
      return <AlarmsPage />;
    case 'listeners':
      return <ListenersPage />;
    case 'pipeline':
      return <PipelinePage />;
    default:
      return <TargetsPage session={s} />;
  }
}
