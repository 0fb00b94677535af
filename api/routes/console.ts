// SPDX-License-Identifier: MIT
// /console: the web console ("tmiDB Console"), a static build (`npm run build` → dist/console) served by
// the API process itself. Files are read once, gzipped once, and kept in memory (the build is ~1 MB);
// hashed assets are cached forever by browsers, index.html never. Unknown paths under /console get
// index.html (the console routes in the URL fragment, so this only catches typed-in paths).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from '../../config/index.js';
import { RequestRejectedError } from '../../errors/index.js';

export const consolePath = '/console';
export const consoleDistDir = path.join(packageRoot, 'dist', 'console');

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** No inline scripts, no third-party scripts; images may come from a user's tile server. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

interface StaticFile {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly type: string;
}

function readBuild(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const body = readFileSync(full);
    const type = contentTypes[path.extname(entry.name)] ?? 'application/octet-stream';
    files.set(`/${path.relative(dir, full).split(path.sep).join('/')}`, { body, gzip: gzipSync(body), type });
  }
  return files;
}

export function registerConsoleRoutes(app: FastifyInstance, distDir = consoleDistDir): void {
  let files: Map<string, StaticFile> | undefined;
  const load = (): Map<string, StaticFile> => {
    if (files !== undefined) return files;
    if (!existsSync(path.join(distDir, 'index.html'))) {
      throw new RequestRejectedError(
        'CONSOLE_NOT_BUILT',
        `the console is not built (${distDir}): run npm run build`,
      );
    }
    files = readBuild(distDir);
    return files;
  };
  const serve = async (req: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
    const wanted = `/${req.params['*'] ?? ''}`;
    const all = load();
    const file = all.get(wanted) ?? (wanted.startsWith('/assets/') ? undefined : all.get('/index.html'));
    if (file === undefined)
      throw new RequestRejectedError('CONSOLE_FILE_NOT_FOUND', `no console file ${wanted}`);
    const hashed = wanted.startsWith('/assets/');
    reply
      .type(file.type)
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(file.gzip);
    }
    return reply.send(file.body);
  };
  const options = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get(consolePath, options, serve);
  app.get(`${consolePath}/*`, options, serve);
}
