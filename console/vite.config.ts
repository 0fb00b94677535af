// SPDX-License-Identifier: MIT
// Builds the console into dist/console (served by the API at /console). Prints the bundle's size.
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Sums what the browser downloads: every emitted file, raw and gzipped. */
function bundleSize(): Plugin {
  return {
    name: 'tmidb-bundle-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      let raw = 0;
      let gzip = 0;
      let files = 0;
      for (const item of Object.values(bundle)) {
        const body = item.type === 'chunk' ? item.code : item.source;
        const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
        if (item.fileName.endsWith('.map')) continue;
        files += 1;
        raw += bytes.length;
        gzip += gzipSync(bytes).length;
      }
      const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
      this.info(`tmiDB Console bundle: ${files} files, ${kb(raw)} (gzip ${kb(gzip)})`);
      process.stdout.write(`\ntmiDB Console bundle: ${files} files, ${kb(raw)} (gzip ${kb(gzip)})\n`);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: false,
  },
  plugins: [bundleSize()],
});
