// SPDX-License-Identifier: MIT
// Routes live in the URL fragment (#/targets/<id>): the API serves one index.html, and nothing
// secret ever goes into a URL.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  readonly page: string;
  readonly id?: string;
}

export function parseRoute(hash: string): Route {
  const [page = 'targets', id] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  return id === undefined || id === '' ? { page: page || 'targets' } : { page, id };
}

export function href(page: string, id?: string): string {
  return id === undefined ? `#/${page}` : `#/${page}/${encodeURIComponent(id)}`;
}

export function navigate(page: string, id?: string): void {
  location.hash = href(page, id);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
