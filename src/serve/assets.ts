// Where serve's static files are. They are read from the package root (the folder whose
// package.json names copilog), not from beside this module: the same path holds whether copilog
// runs from src/ through tsx or from a compiled dist/, so a build needs to copy nothing; the
// package must ship src/serve/web/ and chart.js (a runtime dependency).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'copilog') return dir;
      } catch {
        // Not ours; keep walking up.
      }
    }
    if (dirname(dir) === dir) throw new Error(`copilog's package root (a package.json named copilog) was not found above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const WEB_DIR = join(PACKAGE_ROOT, 'src', 'serve', 'web');

/** chart.js's self-contained browser build (UMD, defines window.Chart), from node_modules. */
export function chartJsPath(): string {
  const main = createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('chart.js');
  return join(dirname(main), 'chart.umd.min.js');
}

/** The web app's files, read once: name → [content type, bytes]. */
export function loadWebAssets(): Map<string, { type: string; body: Buffer }> {
  const files: [string, string, string][] = [
    ['/', join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', join(WEB_DIR, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard.js', join(WEB_DIR, 'dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', join(WEB_DIR, 'style.css'), 'text/css; charset=utf-8'],
    ['/vendor/chart.umd.min.js', chartJsPath(), 'text/javascript; charset=utf-8'],
  ];
  return new Map(files.map(([route, path, type]) => [route, { type, body: readFileSync(path) }]));
}
