// End-to-end: the npm package of <wheel-verify> (packages/wheel-verify/, assembled by
// scripts/npm-pack.mjs). The tarball is installed offline into a scratch project, served on
// loopback, and a dropped wheel is verified in Debian's Chromium: from node_modules on the
// page's own origin, and from a second origin that serves the installed package like a CDN
// (jsDelivr's /npm/<name>@<version>/ layout, `Access-Control-Allow-Origin: *`), under a strict
// Content-Security-Policy whose every source is shown to be needed. The key site is a third
// origin. Also: the Custom Elements Manifest and the versions cannot drift from the source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropFiles, launchChromium, watchErrors } from './support.mjs';
import { keySite, outcome, packAndInstall, repo, serve } from './widget-fixture.mjs';
import { WIDGET } from '../../scripts/npm-pack.mjs';

const PROJECT = 'mypkg';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-package-'));
const shots = path.join(repo, 'test-output/screenshots');
const source = fs.readFileSync(path.join(repo, 'www/wheel-verify.js'), 'utf8');
const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'packages/wheel-verify/custom-elements.json'), 'utf8'));
const element = manifest.modules.flatMap((m) => m.declarations).find((d) => d.tagName === 'wheel-verify');

let fixture; // keySite()
let pkg; // packAndInstall()
let host; // origin A: the scratch project (node_modules) and the CDN host page, with a CSP
let cdn; // origin B: the installed package at /npm/<name>@<version>/, with CORS
let keys; // origin C: the key site, with CORS (as GitHub Pages)
let browser;
let csp = null; // the host page's Content-Security-Policy for the next navigation

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  fixture = keySite(work, PROJECT);
  pkg = packAndInstall(work);
  keys = await serve({ '/': fixture.site }, { headers: () => ({ 'Access-Control-Allow-Origin': '*' }) });
  cdn = await serve({ [`/npm/${pkg.name}@${pkg.version}/`]: pkg.installed }, { headers: () => ({ 'Access-Control-Allow-Origin': '*' }) });
  const keyUrl = `${keys.url}/keys.json`;
  const page = (src) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Installing ${PROJECT}</title>
<script type="module" src="${src}"></script></head>
<body><h1>Installing ${PROJECT}</h1><div><wheel-verify key-url="${keyUrl}" project="${PROJECT}"></wheel-verify></div></body></html>\n`;
  fs.writeFileSync(path.join(pkg.scratch, 'index.html'), page(`/node_modules/${pkg.name}/wheel-verify.js`));
  fs.writeFileSync(path.join(pkg.scratch, 'cdn.html'), page(`${cdn.url}/npm/${pkg.name}@${pkg.version}/wheel-verify.js`));
  host = await serve({ '/': pkg.scratch }, { headers: (req) => (csp && req.url.endsWith('.html') ? { 'Content-Security-Policy': csp } : {}) });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await Promise.all([host, cdn, keys].map((s) => s?.close()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** Open `file` on the host origin under `policy`, drop the signed wheel; what the card shows. */
async function verifyOn(file, policy, { shot } = {}) {
  csp = policy;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  const requests = [];
  const blocked = []; // requests the CSP refused (Chromium's net error "csp")
  context.on('request', (r) => requests.push(r.url()));
  context.on('requestfailed', (r) => { if (r.failure()?.errorText === 'csp') blocked.push(r.url()); });
  await page.goto(`${host.url}/${file}`);
  // goto waits for `load`, after every module script ran: the element is defined by now or never.
  const defined = await page.evaluate(() => Boolean(customElements.get('wheel-verify')));
  let result = null;
  if (defined) {
    await dropFiles(page, [fixture.wheel]);
    result = await outcome(page);
    if (shot) await page.screenshot({ path: path.join(shots, `${shot}.png`), fullPage: true });
  }
  const version = defined ? await page.evaluate(() => customElements.get('wheel-verify').version) : null;
  await context.close();
  return { defined, result, errors, requests, blocked, version };
}

function assertTrusted(r) {
  assert.equal(r.defined, true, 'the element upgraded (customElements.get)');
  assert.equal(r.result.verdict, 'trusted', r.result.text);
  assert.equal(r.result.attribute, 'trusted');
  assert.equal(r.result.badge, 'Trusted');
  assert.ok(r.result.text.includes(`Trusted viakey URL: ${keys.url}/keys.json`), r.result.text);
  assert.deepEqual(r.result.problems, []);
  assert.deepEqual(r.errors, []);
}

test('the tarball holds exactly the files package.json lists, at the crate version', () => {
  const declared = JSON.parse(fs.readFileSync(path.join(repo, 'packages/wheel-verify/package.json'), 'utf8'));
  assert.deepEqual(pkg.files, [...declared.files, 'package.json'].sort());
  const installed = JSON.parse(fs.readFileSync(path.join(pkg.installed, 'package.json'), 'utf8'));
  const crate = /^\[package\][^[]*?^version\s*=\s*"([^"]+)"/ms.exec(fs.readFileSync(path.join(repo, 'crate/Cargo.toml'), 'utf8'))[1];
  assert.equal(installed.version, crate);
  assert.equal(declared.version, crate);
  assert.equal(installed.license, 'MIT OR Apache-2.0');
  assert.equal(installed.type, 'module');
  assert.equal(installed.exports['.'].default, './wheel-verify.js');
  // WheelVerify.version is the crate's version, and the manifest says so too.
  assert.equal(/^\s*static\s+version\s*=\s*'([^']+)'/m.exec(source)?.[1], crate);
  assert.equal(element.members.find((m) => m.name === 'version' && m.static).default, `'${crate}'`);
  // The copied widget files are www/'s, byte for byte.
  // The same widget files as a key site gets (the template's build-site.mjs list).
  const siteList = /const WIDGET = (\[[^\]]*\]);/.exec(fs.readFileSync(path.join(repo, 'static-site-template/tools/build-site.mjs'), 'utf8'))[1];
  assert.deepEqual([...WIDGET].sort(), JSON.parse(siteList.replaceAll("'", '"')).sort());
  // …and as the CLI builds into key sites (crate/build.rs's list, which `site build` uses).
  const cliList = /const WIDGET: &\[&str\] = &(\[[^\]]*\]);/.exec(fs.readFileSync(path.join(repo, 'crate/build.rs'), 'utf8'))[1];
  assert.deepEqual([...WIDGET].sort(), JSON.parse(cliList.replace(/,\s*\]$/, ']')).sort());
  for (const f of ['wheel-verify.js', 'worker.js', 'worker-client.js', 'pkg/wheelsig_bg.wasm']) {
    assert.ok(fs.readFileSync(path.join(pkg.installed, f)).equals(fs.readFileSync(path.join(repo, 'www', f))), f);
  }
});

test('the pack script refuses a package whose version is not the crate version', () => {
  const copy = path.join(work, 'repo-copy');
  for (const d of ['scripts', 'packages', 'crate/Cargo.toml', 'www']) fs.cpSync(path.join(repo, d), path.join(copy, d), { recursive: true, filter: (s) => !s.includes('node_modules') });
  const pj = path.join(copy, 'packages/wheel-verify/package.json');
  fs.writeFileSync(pj, fs.readFileSync(pj, 'utf8').replace(/"version": "[^"]+"/, '"version": "9.9.9"'));
  assert.throws(() => execFileSync('node', [path.join(copy, 'scripts/npm-pack.mjs'), '--out', path.join(work, 'bad')], { stdio: 'pipe' }),
    (e) => e.status === 2 && /versions disagree/.test(String(e.stderr)));
});

/** Every name wheel-verify.js gives a `part`: literals, `attr` (a SOURCES key), and templates. */
function sourceParts() {
  const keysOf = (name) => {
    const m = new RegExp(`^const ${name} = \\{([\\s\\S]*?)^\\};`, 'm').exec(source);
    assert.ok(m, `const ${name} in wheel-verify.js`);
    return [...m[1].matchAll(/^ {2}('?)([\w-]+)\1:/gm)].map((x) => x[2]);
  };
  const values = { attr: keysOf('SOURCES'), 'r.verdict': keysOf('VERDICTS') };
  const parts = new Set();
  for (const [, quoted, template, ident] of source.matchAll(/\bpart: (?:'([^']*)'|`([^`]*)`|([A-Za-z_$][\w$.]*))/g)) {
    let texts = [quoted ?? template ?? `\${${ident}}`];
    for (const [expr, vals] of Object.entries(values)) texts = texts.flatMap((t) => (t.includes(`\${${expr}}`) ? vals.map((v) => t.replaceAll(`\${${expr}}`, v)) : [t]));
    for (const t of texts) {
      assert.ok(!t.includes('${'), `a part name this test cannot resolve: ${t}`);
      for (const name of t.split(/\s+/).filter(Boolean)) parts.add(name);
    }
  }
  return parts;
}

/** Every attribute wheel-verify.js observes, reads (get/hasAttribute with a literal) or sets. */
function sourceAttributes() {
  const observed = /static observedAttributes = \[([^\]]*)\]/.exec(source);
  assert.ok(observed, 'static observedAttributes in wheel-verify.js');
  const names = new Set([...observed[1].matchAll(/'([^']+)'/g)].map((m) => m[1]));
  for (const m of source.matchAll(/this\.(?:get|has|set|remove|toggle)Attribute\('([^']+)'/g)) names.add(m[1]);
  return { names, observed: [...observed[1].matchAll(/'([^']+)'/g)].map((m) => m[1]) };
}

test('the Custom Elements Manifest declares exactly the attributes, parts and event of wheel-verify.js', () => {
  assert.equal(manifest.schemaVersion, '2.1.0');
  assert.equal(element.name, 'WheelVerify');
  assert.match(source, /customElements\.define\('wheel-verify', WheelVerify\)/);
  const { names, observed } = sourceAttributes();
  const declared = element.attributes.map((a) => a.name);
  assert.deepEqual([...declared].sort(), [...names].sort(), 'manifest attributes vs wheel-verify.js');
  for (const a of ['key-url', 'keys-url', 'project', 'pypi-check', 'witness-policy', 'allow-loopback-in-lists', 'require-logged']) assert.ok(names.has(a), a);
  for (const a of observed) assert.ok(declared.includes(a), `observed attribute ${a} is in the manifest`);
  assert.deepEqual(element.cssParts.map((p) => p.name).sort(), [...sourceParts()].sort(), 'manifest cssParts vs part: uses in wheel-verify.js');
  const events = [...source.matchAll(/new CustomEvent\('([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(element.events.map((e) => e.name).sort(), [...new Set(events)].sort());
  // The types declare the same element, event and tag.
  const dts = fs.readFileSync(path.join(repo, 'packages/wheel-verify/wheel-verify.d.ts'), 'utf8');
  assert.match(dts, /'wheel-verify': WheelVerify;/);
  for (const e of events) assert.ok(dts.includes(`'${e}': CustomEvent<WheelReport>`), e);
  for (const a of names) assert.ok(dts.includes(`\`${a}\``), `wheel-verify.d.ts documents ${a}`);
});

test('www/README.md lists exactly the parts the manifest declares', () => {
  const readme = fs.readFileSync(path.join(repo, 'www/README.md'), 'utf8');
  const m = /these parts can be themed: ([\s\S]*?)\. The element/.exec(readme);
  assert.ok(m, 'the parts sentence in www/README.md');
  const listed = [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1]);
  const verdictParts = element.cssParts.map((p) => p.name).filter((n) => /^card-/.test(n));
  const expected = element.cssParts.map((p) => p.name).filter((n) => !verdictParts.includes(n)).concat('card-<verdict>');
  assert.deepEqual([...listed].sort(), expected.sort());
});

/** The policy www/README.md gives for a copy on the page's own origin (no pypi-check here). */
const sameOriginCsp = () => `default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ${keys.url}`;

test('installed from the tarball: the element from node_modules verifies a dropped wheel (same origin, strict CSP)', async () => {
  const r = await verifyOn('index.html', sameOriginCsp(), { shot: 'package-node-modules' });
  assertTrusted(r);
  assert.equal(r.version, pkg.version);
  assert.ok(r.requests.includes(`${host.url}/node_modules/${pkg.name}/pkg/wheelsig_bg.wasm`), r.requests.join('\n'));
  assert.ok(r.requests.includes(`${keys.url}/releases/${PROJECT}/${path.basename(fixture.wheel)}.jws`));
});

/** The minimal CSP for the widget from a CDN; `without` drops one source or directive. */
function cdnCsp({ script = [cdn.url, "'wasm-unsafe-eval'"], worker = ['blob:', cdn.url], connect = [cdn.url, keys.url] } = {}) {
  return [`default-src 'none'`, script && `script-src ${script.join(' ')}`, worker && `worker-src ${worker.join(' ')}`, connect && `connect-src ${connect.join(' ')}`].filter(Boolean).join('; ');
}

test('from a CDN origin: the blob worker imports the CDN worker, the wasm comes from the CDN, under the minimal CSP', async () => {
  cdn.requests.length = 0;
  const r = await verifyOn('cdn.html', cdnCsp(), { shot: 'package-cdn' });
  assertTrusted(r);
  assert.equal(r.version, pkg.version);
  const base = `/npm/${pkg.name}@${pkg.version}/`;
  for (const f of ['wheel-verify.js', 'worker-client.js', 'worker.js', 'pkg/wheelsig.js', 'pkg/wheelsig_bg.wasm']) assert.ok(cdn.requests.includes(base + f), `${f} from the CDN: ${cdn.requests.join(', ')}`);
  // The host origin served the page only: no widget file came from it.
  assert.deepEqual(r.requests.filter((u) => u.startsWith(host.url)), [`${host.url}/cdn.html`]);
});

test('both READMEs document exactly the CSPs tested here', () => {
  const docs = ['www/README.md', 'packages/wheel-verify/README.md'].map((f) => fs.readFileSync(path.join(repo, f), 'utf8'));
  const cdnLine = /^script-src https:\/\/cdn\.jsdelivr\.net .*$/m;
  const [www, npm] = docs.map((d) => cdnLine.exec(d)?.[0]);
  assert.ok(www, 'the CDN policy in www/README.md');
  assert.equal(npm, www, 'the package README gives the same CDN policy');
  const local = (line) => line.replaceAll('https://cdn.jsdelivr.net', cdn.url).replace('https://alice.github.io', keys.url).replace(' https://pypi.org', '');
  assert.equal(`default-src 'none'; ${local(www)}`, cdnCsp());
  const same = /^script-src 'self' .*$/m.exec(docs[0])?.[0];
  assert.equal(`default-src 'none'; ${local(same ?? '')}`, sameOriginCsp());
});

test('from a CDN origin: each source of the minimal CSP is needed', async () => {
  const widget = (f) => `${cdn.url}/npm/${pkg.name}@${pkg.version}/${f}`;
  const violation = (re) => (r) => r.errors.some((e) => re.test(e));
  const cases = {
    'script-src without the CDN: the element never loads': {
      policy: cdnCsp({ script: ["'wasm-unsafe-eval'"] }), fails: 'undefined', evidence: (r) => r.blocked.includes(widget('wheel-verify.js')),
    },
    "script-src without 'wasm-unsafe-eval': the worker cannot compile the wasm": {
      policy: cdnCsp({ script: [cdn.url] }), fails: /Could not verify: WebAssembly\.instantiateStreaming\(\): .*Content Security policy/i,
    },
    'worker-src without blob:: the same-origin blob worker is refused': {
      policy: cdnCsp({ worker: [cdn.url] }), fails: /Could not verify/, evidence: violation(/Creating a worker from 'blob:.*violates .*"worker-src http:/),
    },
    "worker-src 'self' (right for a copy on your own origin) from a CDN": {
      policy: cdnCsp({ worker: ["'self'"] }), fails: /Could not verify/, evidence: violation(/Creating a worker from 'blob:.*violates .*"worker-src 'self'"/),
    },
    "worker-src without the CDN: the blob worker's import of worker.js is refused": {
      policy: cdnCsp({ worker: ['blob:'] }), fails: /Could not verify: the verification worker failed to start/, evidence: (r) => r.blocked.includes(widget('worker.js')),
    },
    'no worker-src: its fallback script-src has no blob:': {
      policy: cdnCsp({ worker: null }), fails: /Could not verify/, evidence: violation(/Creating a worker from 'blob:.*'worker-src' was not explicitly set, so 'script-src' is used/),
    },
    'connect-src without the CDN: the worker cannot fetch the wasm': {
      policy: cdnCsp({ connect: [keys.url] }), fails: /Could not verify: Failed to fetch/,
    },
    'connect-src without the key site: the key URL and signature are refused': {
      policy: cdnCsp({ connect: [cdn.url] }), fails: 'unsigned', evidence: violation(/Connecting to 'http:\/\/127\.0\.0\.1:\d+\/keys\.json' violates/),
    },
  };
  for (const [name, { policy, fails, evidence }] of Object.entries(cases)) {
    const r = await verifyOn('cdn.html', policy);
    if (evidence) assert.ok(evidence(r), `${name}: the CSP refusal is seen (${[...r.errors, ...r.blocked].join(' | ')})`);
    if (fails === 'undefined') {
      assert.equal(r.defined, false, name);
      continue;
    }
    assert.equal(r.defined, true, name);
    assert.notEqual(r.result.verdict, 'trusted', name);
    if (fails === 'unsigned') {
      assert.equal(r.result.verdict, 'unsigned', `${name}: ${r.result.text}`);
      assert.match(r.result.text, /The key URL could not be used/, name);
    } else {
      assert.equal(r.result.state, 'error', `${name}: ${r.result.text}`);
      assert.match(r.result.text, fails, name);
    }
  }
});
