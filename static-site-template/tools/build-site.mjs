#!/usr/bin/env node
// Check this key site and render it: node tools/build-site.mjs [--out DIR] [--site DIR]
//                                        [--previous CHECKPOINT_FILE] [--expect-site-url URL]
//                                        [--audit FILE]
//
// Runs the same wheelsig code as `wheelsig site build` (compiled to WebAssembly, shipped in
// wheelsig/pkg/) under plain Node 18+: no Rust toolchain, no npm install, no network. Exit 0:
// built; 1: the site has problems (each printed as "file: what is wrong"); 2: bad usage or I/O.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS, UsageError, loadWasm, readLimited, readLog, readReleases, text, write } from './site-files.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The widget files a site serves under wheelsig/ (same list as the native CLI).
const WIDGET = ['wheel-verify.js', 'worker.js', 'worker-client.js', 'first-use.js', 'log-memory.js', 'escape.js', 'pkg/wheelsig.js', 'pkg/wheelsig_bg.wasm'];

function parseArgs(argv) {
  const opts = { site: path.resolve(here, '..'), out: null, previous: null, expectSiteUrl: null, audit: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '--site' || arg === '--previous' || arg === '--audit') {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a ${arg === '--out' || arg === '--site' ? 'directory' : 'file'}`);
      opts[arg.slice(2)] = path.resolve(argv[++i]);
    } else if (arg === '--expect-site-url') {
      if (i + 1 >= argv.length || !argv[i + 1]) throw new UsageError(`${arg} needs a URL`);
      opts.expectSiteUrl = checkExpected(argv[++i]);
    } else if (arg === '-h' || arg === '--help') {
      console.log([
        'usage: node tools/build-site.mjs [--out DIR] [--site DIR] [--previous FILE] [--expect-site-url URL] [--audit FILE]',
        '  --out              output directory [default: <site>/_site]',
        '  --site             the site sources [default: this tool\'s parent directory]',
        '  --previous         the checkpoint that is live now (the deployed log/checkpoint): fail unless the log extends it',
        '  --expect-site-url  the address the site is deployed to (the workflow passes GitHub Pages\' URL):',
        '                     fail unless site.json\'s site_url is it (a trailing slash either way is the same)',
        '  --audit            an index audit of this site (tools/audit-site.mjs --out, or wheelsig audit --json):',
        '                     shown on the page as "Index audit", published as audit.json',
      ].join('\n'));
      process.exit(0);
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    }
  }
  opts.out ??= path.join(opts.site, '_site');
  return opts;
}

/** `s` quoted, with the characters the core escapes in its messages (controls, bidi
 * overrides) written as \u{hex}, so a log line shows what the file holds. */
const quote = (s) => JSON.stringify(s).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);

/** `url` ending in exactly one `/`, as the core normalizes site_url. */
const withSlash = (url) => url.replace(/\/*$/, '/');

function checkExpected(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--expect-site-url ${quote(url)} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`--expect-site-url ${quote(url)} is not an http(s) URL`);
  return withSlash(url);
}

/** The one-line problem when site.json's site_url is not where the site is deployed, else null.
 * A site.json that cannot be read this far is left to the build, which says what is wrong. */
function siteUrlMismatch(configBytes, expected) {
  let siteUrl;
  try {
    siteUrl = JSON.parse(text(configBytes, 'site.json')).site_url;
  } catch {
    return null;
  }
  if (typeof siteUrl !== 'string' || withSlash(siteUrl) === expected) return null;
  return `site.json's site_url ${quote(siteUrl)}, but this workflow deploys to ${quote(expected)}: edit site_url in site.json to that address`;
}

async function main() {
  const { site, out, previous, expectSiteUrl, audit } = parseArgs(process.argv.slice(2));
  const wasm = await loadWasm(site);

  const config = readLimited(path.join(site, 'site.json'), LIMITS.config, 'site.json');
  const keys = readLimited(path.join(site, 'keys.json'), LIMITS.keys, 'keys.json');
  const releases = readReleases(site);
  const log = readLog(site);
  const live = previous === null ? undefined : readLimited(previous, LIMITS.checkpoint, '--previous checkpoint');
  const audited = audit === null ? undefined : readLimited(audit, LIMITS.audit, '--audit report');
  // Checked before the build (whose problems are printed with it), and nothing is written when
  // it fails: a page deployed at one address whose key URL names another is a wrong key site.
  const mismatch = expectSiteUrl === null ? null : siteUrlMismatch(config, expectSiteUrl);
  let built;
  try {
    built = wasm.build_site(text(config, 'site.json'), text(keys, 'keys.json'),
      releases.map((r) => ({ path: r.path, text: text(r.bytes, r.path) })),
      log.map((f) => ({ path: f.path, base64: f.bytes.toString('base64') })),
      live === undefined ? undefined : text(live, '--previous'),
      audited === undefined ? undefined : text(audited, '--audit'));
  } catch (err) {
    if (err?.code !== 'site') throw err;
    for (const p of err.problems) console.error(`${site}: ${p.path}: ${p.message}`);
    if (mismatch !== null) console.error(`${site}: ${mismatch}`);
    const n = err.problems.length + (mismatch === null ? 0 : 1);
    console.error(`the site was not built: ${n} problem${n === 1 ? '' : 's'}`);
    return 1;
  }
  if (mismatch !== null) {
    console.error(`${site}: ${mismatch}`);
    return 1;
  }
  for (const [rel, text] of built.files) write(path.join(out, rel), text);
  write(path.join(out, 'keys.json'), keys);
  write(path.join(out, '.nojekyll'), '');
  for (const r of [...releases, ...log]) write(path.join(out, r.path), r.bytes);
  for (const rel of WIDGET) {
    const from = path.join(site, 'wheelsig', rel);
    if (fs.lstatSync(from).isSymbolicLink()) throw new UsageError(`${from}: a symbolic link; the widget files must be regular files`);
    write(path.join(out, 'wheelsig', rel), fs.readFileSync(from));
  }
  const s = (n) => (n === 1 ? '' : 's');
  const logged = built.log ? `, log of ${built.log.size} entr${built.log.size === 1 ? 'y' : 'ies'}` : '';
  const auditNote = built.audit == null ? '' : `, index audit ${built.audit.passed ? 'PASS' : 'FAIL'}`;
  console.error(`built ${site} -> ${out}: ${built.keys} key${s(built.keys)}, ${built.releases.length} release${s(built.releases.length)}${logged}${auditNote}`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`build-site: error: ${err instanceof UsageError ? err.message : err?.message || err}`);
  process.exit(2);
});
