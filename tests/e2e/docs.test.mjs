// End-to-end: <wheel-verify> on real docs sites. tests/docs/sphinx (Sphinx, `html_js_files`)
// and tests/docs/mkdocs (MkDocs Material, `extra_javascript` with `type: module`) are copied
// to a temporary folder with the widget from the npm package (packed and installed from its
// tarball) in their static folder and `key-url` pointed at a loopback key site, built by the
// real `sphinx-build` and `mkdocs build` (warnings are errors), served on loopback, and a
// signed wheel is dropped on the element on a nested page in Debian's Chromium. Their
// embedding lines are the snippets in www/README.md, checked here so the two cannot drift.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropFiles, launchChromium, watchErrors } from './support.mjs';
import { keySite, outcome, packAndInstall, repo, serve, timed } from './widget-fixture.mjs';
import { WIDGET } from '../../scripts/npm-pack.mjs';

const DOC_KEY_URL = 'https://alice.github.io/keys/keys.json'; // what the projects (and README) say
const venv = path.join(repo, '.venv/bin');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-docs-'));
const shots = path.join(repo, 'test-output/screenshots');
const readme = fs.readFileSync(path.join(repo, 'www/README.md'), 'utf8');

let fixture;
let keys; // the key site, another origin with CORS (as GitHub Pages)
let browser;
const sites = {}; // name -> { server, page: the nested page's URL, html: its built HTML }

/** Copy a docs project, put the packaged widget in `staticDir`, point key-url at the loopback site. */
function prepare(name, staticDir, installed) {
  const dir = path.join(work, name);
  fs.cpSync(path.join(repo, 'tests/docs', name), dir, { recursive: true });
  for (const f of WIDGET) fs.cpSync(path.join(installed, f), path.join(dir, staticDir, f));
  for (const page of ['guide/verify.rst', 'docs/guide/verify.md']) {
    const p = path.join(dir, page);
    if (!fs.existsSync(p)) continue;
    const text = fs.readFileSync(p, 'utf8');
    assert.ok(text.includes(`key-url="${DOC_KEY_URL}"`), `${name}/${page} embeds the element with the documented key URL`);
    fs.writeFileSync(p, text.replaceAll(DOC_KEY_URL, `${keys.url}/keys.json`));
  }
  return dir;
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  fixture = keySite(work, 'mypkg');
  keys = await serve({ '/': fixture.site }, { headers: () => ({ 'Access-Control-Allow-Origin': '*' }) });
  const { installed } = packAndInstall(work);
  const env = { ...process.env, NO_MKDOCS_2_WARNING: '1' };

  const sphinx = prepare('sphinx', '_static/wheelsig', installed);
  timed('sphinx-build', () => execFileSync(path.join(venv, 'sphinx-build'), ['-W', '--keep-going', '-q', '-b', 'html', sphinx, path.join(work, 'sphinx-out')], { stdio: 'pipe', env }));
  const mkdocs = prepare('mkdocs', 'docs/assets/wheelsig', installed);
  timed('mkdocs build', () => execFileSync(path.join(venv, 'mkdocs'), ['build', '--strict', '--quiet', '-f', path.join(mkdocs, 'mkdocs.yml'), '-d', path.join(work, 'mkdocs-out')], { stdio: 'pipe', env }));

  for (const [name, nested] of [['sphinx', 'guide/verify.html'], ['mkdocs', 'guide/verify/index.html']]) {
    const server = await serve({ '/': path.join(work, `${name}-out`) });
    sites[name] = { server, page: `${server.url}/${nested.replace(/index\.html$/, '')}`, html: fs.readFileSync(path.join(work, `${name}-out`, nested), 'utf8') };
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([keys, ...Object.values(sites).map((s) => s.server)].map((s) => s?.close()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** Open the nested page, check the element upgraded, drop the signed wheel: the card. */
async function verifyNested(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  await page.goto(sites[name].page);
  assert.equal(await page.evaluate(() => Boolean(customElements.get('wheel-verify'))), true, `${name}: the element upgraded`);
  assert.equal(await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot?.querySelector('.drop') !== null), true);
  await dropFiles(page, [fixture.wheel]);
  const r = await outcome(page);
  await page.screenshot({ path: path.join(shots, `docs-${name}.png`), fullPage: true });
  await context.close();
  assert.equal(r.verdict, 'trusted', r.text);
  assert.equal(r.attribute, 'trusted');
  assert.equal(r.badge, 'Trusted');
  assert.ok(r.text.includes(`Trusted viakey URL: ${keys.url}/keys.json`), r.text);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(errors, []);
  return requests;
}

test('Sphinx: html_js_files loads the module on a nested page; a dropped wheel is trusted', async () => {
  const { html, server } = sites.sphinx;
  // Sphinx writes the path relative to the page, with a cache-busting query.
  assert.match(html, /<script type="module" src="\.\.\/_static\/wheelsig\/wheel-verify\.js\?v=[0-9a-f]+"><\/script>/);
  assert.match(html, /<div><wheel-verify key-url="http:\/\/127\.0\.0\.1:\d+\/keys\.json" project="mypkg"><\/wheel-verify><\/div>/);
  const requests = await verifyNested('sphinx');
  assert.ok(requests.includes(`${server.url}/_static/wheelsig/pkg/wheelsig_bg.wasm`), requests.join('\n'));
});

test('MkDocs Material: extra_javascript with type: module on a nested page; a dropped wheel is trusted', async () => {
  const { html, server } = sites.mkdocs;
  assert.match(html, /<script src="\.\.\/\.\.\/assets\/wheelsig\/wheel-verify\.js" type="module"><\/script>/);
  // Not wrapped in <p> (MkDocs does that to a bare custom element): the <div> keeps it a block.
  // md_in_html is on: markdown="0" leaves the block raw (and the attribute in place).
  assert.match(html, /<div markdown="0">\n<wheel-verify key-url="http:\/\/127\.0\.0\.1:\d+\/keys\.json" project="mypkg"><\/wheel-verify>\n<\/div>/);
  assert.doesNotMatch(html, /<p>\s*<wheel-verify/);
  const requests = await verifyNested('mkdocs');
  assert.ok(requests.includes(`${server.url}/assets/wheelsig/pkg/wheelsig_bg.wasm`), requests.join('\n'));
});

test('www/README.md shows exactly the Sphinx and MkDocs lines these projects use', () => {
  const lines = (file, re) => fs.readFileSync(path.join(repo, 'tests/docs', file), 'utf8').split('\n').filter((l) => re.test(l));
  const snippets = [
    ...lines('sphinx/conf.py', /^html_(static_path|js_files) = /),
    ...lines('sphinx/guide/verify.rst', /raw:: html|<wheel-verify/),
    fs.readFileSync(path.join(repo, 'tests/docs/mkdocs/mkdocs.yml'), 'utf8').match(/^extra_javascript:\n(?: {2}.*\n)+/m)[0],
    fs.readFileSync(path.join(repo, 'tests/docs/mkdocs/docs/guide/verify.md'), 'utf8').match(/<div markdown="0">\n[\s\S]*?<\/div>\n/)[0],
  ];
  assert.equal(snippets.length, 6);
  for (const s of snippets) assert.ok(readme.includes(s), `www/README.md contains:\n${s}`);
});
