// A static file server on loopback for the demo and the browser tests (sirv over node:http).
// Usage: node scripts/serve.mjs [port]   — serves www/ at / and demo/ at /demo/.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Start a server. `roots` maps URL prefixes ('/', '/demo/') to directories; the longest
 * matching prefix wins. Port 0 picks a free port. Resolves to { server, url, close }.
 */
export function startServer({ port = 0, host = '127.0.0.1', roots = { '/': path.join(repo, 'www') } } = {}) {
  const mounts = Object.entries(roots)
    .sort((a, b) => b[0].length - a[0].length)
    .map(([prefix, dir]) => [prefix, sirv(dir, { dev: true, dotfiles: true, etag: false, extensions: ['html'] })]);
  const server = http.createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const url = req.url || '/';
    for (const [prefix, handler] of mounts) {
      if (url === prefix.replace(/\/$/, '') && prefix !== '/') {
        res.writeHead(301, { Location: prefix });
        return res.end();
      }
      if (url.startsWith(prefix)) {
        req.url = '/' + url.slice(prefix.length);
        return handler(req, res, () => {
          res.statusCode = 404;
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end('not found\n');
        });
      }
    }
    res.statusCode = 404;
    res.end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      const url = `http://${host}:${actual}`;
      resolve({ server, url, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || process.env.PORT || 8000);
  const { url } = await startServer({
    port,
    roots: { '/': path.join(repo, 'www'), '/demo/': path.join(repo, 'demo') },
  });
  console.log(`serving www/ at ${url}/ and demo/ at ${url}/demo/`);
}
