// Shared by package.test.mjs and docs.test.mjs: a publisher's key site with one signed wheel
// (made by the real CLI), the npm package packed and installed from its tarball, a static
// server with per-request headers that records what it served, and the outcome of a drop.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The time `fn` takes, logged as `label: N.N s` (so a run shows what each step costs). */
export function timed(label, fn) {
  const t = performance.now();
  const out = fn();
  console.log(`# ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return out;
}

/**
 * `site/keys.json` listing a fresh key for `project`, and `wheels/<project>-1.0-py3-none-any.whl`
 * signed by it, its detached signature published at `site/releases/<project>/`. Also an
 * unsigned wheel of another project (`other`), for a verdict that needs no key site.
 */
export function keySite(work, project) {
  const site = path.join(work, 'site');
  const wheels = path.join(work, 'wheels');
  fs.mkdirSync(site, { recursive: true });
  ws('keygen', '--out', path.join(work, 'pub.jwk'));
  fs.writeFileSync(path.join(site, 'keys.json'), ws('jwks', path.join(work, 'pub.jwk'), '--projects', project));
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), wheels, `${project}==1.0`, 'otherdemo==0.1'], { stdio: 'ignore' });
  const wheel = path.join(wheels, `${project.replace(/-/g, '_')}-1.0-py3-none-any.whl`);
  ws('sign', '--key', path.join(work, 'pub.jwk'), '--out-dir', path.join(site, 'releases', project), wheel);
  return { site, wheel, unsigned: path.join(wheels, 'otherdemo-0.1-py3-none-any.whl') };
}

/**
 * Run the pack script, `npm pack` into `work/tarball/`, and `npm install` the tarball, offline,
 * into a scratch project `work/scratch/`. Returns { tarball, scratch, installed, files }.
 */
export function packAndInstall(work) {
  const assembled = path.join(work, 'assembled');
  const tarballDir = path.join(work, 'tarball');
  const out = timed('pack script + npm pack', () => execFileSync('node', [path.join(repo, 'scripts/npm-pack.mjs'), '--out', assembled, '--pack', tarballDir], { encoding: 'utf8' }));
  const tarball = out.trim().split('\n').pop();
  const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  const scratch = path.join(work, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-docs', private: true, version: '0.0.0' }));
  timed('npm install of the tarball (offline)', () => execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] }));
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'packages/wheel-verify/package.json'), 'utf8'));
  return { tarball, scratch, installed: path.join(scratch, 'node_modules', pkg.name), files, name: pkg.name, version: pkg.version };
}

/**
 * A static server on loopback: `roots` maps URL prefixes to directories (longest first);
 * `headers(req)` gives extra response headers. `requests` lists every path asked for.
 */
export function serve(roots, { headers = () => ({}) } = {}) {
  const mounts = Object.entries(roots)
    .sort((a, b) => b[0].length - a[0].length)
    .map(([prefix, dir]) => [prefix, sirv(dir, { dev: true, etag: false })]);
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    for (const [k, v] of Object.entries(headers(req))) res.setHeader(k, v);
    const notFound = () => { res.statusCode = 404; res.end('not found\n'); };
    for (const [prefix, handler] of mounts) {
      if (req.url.startsWith(prefix)) {
        req.url = '/' + req.url.slice(prefix.length);
        return handler(req, res, notFound);
      }
    }
    notFound();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${server.address().port}`;
    resolve({ url, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) });
  }));
}

/**
 * Wait until the first <wheel-verify>'s newest card is finished: a verdict card, or a note
 * card ("Could not verify: …", state `error`). Returns what the card shows.
 */
export async function outcome(page, timeout = 60_000) {
  await page.waitForFunction(() => {
    const card = document.querySelector('wheel-verify')?.shadowRoot?.querySelector('.cards .card');
    return card && (card.dataset.verdict || (card.dataset.state && card.dataset.state !== 'checking'));
  }, null, { timeout });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.cards .card');
    return {
      verdict: card.dataset.verdict || null,
      state: card.dataset.state || null,
      attribute: el.getAttribute('verdict'),
      badge: card.querySelector('.badge')?.textContent || null,
      text: card.textContent,
      problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent),
    };
  });
}
