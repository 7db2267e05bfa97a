// A static Simple API mirror, served the way a bandersnatch mirror is behind nginx: each
// directory holds `index.html` (PEP 503) and `index.v1_json` (PEP 691, with PyPI's
// `_last-serial`); the `Accept` header picks one. Files are served by sirv with ETags (its
// `W/"size-mtime"`) and 304 to a matching If-None-Match, as static hosts and CDNs answer.
// Each request is logged to stdout as `<status> <path>` for the tests to count.
// Usage: node tests/interop/static_index.mjs DIR   (prints `listening PORT`)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sirv from 'sirv';

const dir = path.resolve(process.argv[2]);
const files = sirv(dir, { dev: true, etag: true, extensions: [] });
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

const server = http.createServer((req, res) => {
  const pathname = new URL(req.url, 'http://x').pathname;
  let name = null;
  if (pathname.endsWith('/')) {
    const wantsJson = (req.headers.accept || '').includes(JSON_TYPE);
    name = wantsJson && fs.existsSync(path.join(dir, pathname, 'index.v1_json')) ? 'index.v1_json' : 'index.html';
    req.url = pathname + name;
  }
  // Logged as the answer is written (sirv answers with writeHead, a 304 included).
  const writeHead = res.writeHead.bind(res);
  res.writeHead = (code, headers = {}) => {
    if (code === 200 && name) headers['Content-Type'] = name === 'index.html' ? 'text/html; charset=utf-8' : JSON_TYPE;
    process.stdout.write(`${code} ${pathname}\n`);
    return writeHead(code, headers);
  };
  files(req, res, () => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
