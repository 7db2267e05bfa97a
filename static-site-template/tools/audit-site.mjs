#!/usr/bin/env node
// Compare what a package index serves for this site's projects with the releases it signed:
//   node tools/audit-site.mjs [--index URL] [--site DIR | --key-url URL] [--out FILE] [--json]
//
// The same audit as `wheelsig audit` (the core's audit and index-page parser, compiled to
// WebAssembly in wheelsig/pkg/); this file only does the HTTP, with Node 18+'s fetch. It reads
// the releases from the site's sources (checked and built in memory, as tools/build-site.mjs
// does) or, with --key-url, from the releases.json a deployed site serves next to keys.json;
// asks the index for each project's page (PEP 691 JSON, else PEP 503 HTML); and writes the
// report (`wheelsig audit --json`) to --out, which `tools/build-site.mjs --audit FILE` renders
// on the key page. An index that cannot be asked is recorded in the report (`error`), so the
// page says the audit could not be carried out.
// Exit 0: the index and the site agree; 1: they differ; 2: bad usage or I/O (the index could
// not be asked: the report, with its error, is still written).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS, UsageError, loadWasm, readLimited, readLog, readReleases, replace, text } from './site-files.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYPI = 'https://pypi.org/simple/';
// crate/src/index.rs MAX_PAGE_BYTES and crate/src/audit.rs MAX_RELEASES_JSON.
const MAX_PAGE = 64 << 20;
const MAX_RELEASES_JSON = 96 << 20;
const TIMEOUT_MS = 30_000;

function parseArgs(argv) {
  const opts = { site: path.resolve(here, '..'), index: PYPI, keyUrl: null, out: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length || !argv[i + 1]) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--site') opts.site = path.resolve(value());
    else if (arg === '--out') opts.out = path.resolve(value());
    else if (arg === '--index') opts.index = value();
    else if (arg === '--key-url') opts.keyUrl = value();
    else if (arg === '--json') opts.json = true;
    else if (arg === '-h' || arg === '--help') {
      console.log([
        'usage: node tools/audit-site.mjs [--index URL] [--site DIR | --key-url URL] [--out FILE] [--json]',
        `  --index    the package index's simple API root [default: ${PYPI}]`,
        '  --site     the site sources whose releases are compared [default: this tool\'s parent directory]',
        '  --key-url  compare the releases.json a deployed key site serves next to this key URL instead',
        '             (the wasm still comes from --site)',
        '  --out      write the report (JSON) here, for tools/build-site.mjs --audit',
        '  --json     print the report on stdout instead of one line per finding',
      ].join('\n'));
      process.exit(0);
    } else throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
  }
  return opts;
}

/** The reason a fetch failed, as one line. */
const why = (err) => err?.cause?.message || err?.message || String(err);

/** GET `url` as the CLI does: 30 s, at most `limit` bytes, redirects only from and to https
 * (none for loopback http). {status, body, contentType, url} or an Error saying why not. */
async function get(url, accept, limit) {
  const https = new URL(url).protocol === 'https:';
  const resp = await fetch(url, { headers: accept ? { accept } : {}, redirect: https ? 'follow' : 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (https && new URL(resp.url).protocol !== 'https:') throw new Error(`${url}: redirected to ${resp.url}, which is not https`);
  if (resp.status !== 200) {
    await resp.body?.cancel();
    return { status: resp.status, url: resp.url || url };
  }
  const announced = Number(resp.headers.get('content-length'));
  if (announced > limit) throw new Error(`${url}: the server announces ${announced} bytes; the limit is ${limit}`);
  const chunks = [];
  let size = 0;
  for await (const chunk of resp.body ?? []) {
    size += chunk.length;
    if (size > limit) throw new Error(`${url}: reading the response failed (limit ${limit} bytes)`);
    chunks.push(chunk);
  }
  return { status: 200, body: Buffer.concat(chunks), contentType: resp.headers.get('content-type') ?? '', url: resp.url || url };
}

/** A project page as the wasm's audit_site takes it. */
async function projectPage(url, accept) {
  try {
    const r = await get(url, accept, MAX_PAGE);
    if (r.status === 200) return { url: r.url, body: r.body.toString('base64'), content_type: r.contentType };
    if (r.status === 404 || r.status === 410) return { url, missing: true };
    return { url, error: `HTTP status ${r.status}` };
  } catch (err) {
    const m = why(err);
    return { url, error: m.startsWith(url) ? m.slice(url.length + 2) : m };
  }
}

/** The site's releases.json: built from the sources (every signature checked), or fetched. */
async function releasesJson(wasm, site, keyUrl) {
  if (keyUrl !== null) {
    let checked;
    try {
      checked = wasm.check_key_url(keyUrl);
    } catch (err) {
      throw new UsageError(`--key-url: ${err.message}`);
    }
    const url = new URL('releases.json', checked).href;
    let r;
    try {
      r = await get(url, null, MAX_RELEASES_JSON);
    } catch (err) {
      throw new UsageError(why(err));
    }
    if (r.status === 404) throw new UsageError(`${url}: not found (404): a key site publishes releases.json next to keys.json (tools/build-site.mjs writes it)`);
    if (r.status !== 200) throw new UsageError(`${url}: HTTP status ${r.status}`);
    return { text: text(r.body, url), keyUrl: checked };
  }
  const config = readLimited(path.join(site, 'site.json'), LIMITS.config, 'site.json');
  const keys = readLimited(path.join(site, 'keys.json'), LIMITS.keys, 'keys.json');
  let built;
  try {
    built = wasm.build_site(text(config, 'site.json'), text(keys, 'keys.json'),
      readReleases(site).map((r) => ({ path: r.path, text: text(r.bytes, r.path) })),
      readLog(site).map((f) => ({ path: f.path, base64: f.bytes.toString('base64') })));
  } catch (err) {
    if (err?.code !== 'site') throw err;
    const n = err.problems.length;
    throw new UsageError(`${site}: the site does not build (${n} problem${n === 1 ? '' : 's'}; tools/build-site.mjs lists them), first: ${err.problems[0]?.path}: ${err.problems[0]?.message}`);
  }
  return { text: built.files.find(([rel]) => rel === 'releases.json')[1], keyUrl: null };
}

/** GitHub Actions workflow-command data escaping (the line cannot end the command early). */
const annotation = (s) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wasm = await loadWasm(opts.site);
  const releases = await releasesJson(wasm, opts.site, opts.keyUrl);
  let plan;
  try {
    plan = wasm.audit_plan(releases.text, opts.index);
  } catch (err) {
    throw new UsageError(err.code === 'index' ? `--index: ${err.message}` : err.message);
  }
  if (releases.keyUrl !== null && plan.key_url !== releases.keyUrl) {
    throw new UsageError(`releases.json next to ${releases.keyUrl} describes the key site ${wasm.escape_text(plan.key_url)}`);
  }
  const checkedAt = Math.floor(Date.now() / 1000);
  const pages = {};
  for (const { project, url } of plan.projects) pages[project] = await projectPage(url, plan.accept);
  const report = wasm.audit_site(releases.text, { index: opts.index, checked_at: checkedAt, pages });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (opts.out !== null) replace(opts.out, json);
  const summary = wasm.audit_summary(json);
  if (opts.json) process.stdout.write(json);
  else {
    for (const f of report.findings) console.log(`${f.severity === 'info' ? 'note: ' : ''}${f.code}: ${wasm.escape_text(f.message)}`);
    if (!report.error) console.log(wasm.escape_text(summary));
  }
  if (process.env.GITHUB_ACTIONS === 'true' && !report.passed) console.log(`::error title=Index audit::${annotation(wasm.escape_text(summary))}`);
  if (report.error) {
    console.error(`audit-site: error: ${wasm.escape_text(summary.replace(/^FAIL: /, ''))}${opts.out === null ? '' : ` (recorded in ${opts.out})`}`);
    return 2;
  }
  return report.passed ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`audit-site: error: ${err instanceof UsageError ? err.message : err?.message || err}`);
  process.exit(2);
});
