#!/usr/bin/env node
// Check this key site and render it: node tools/build-site.mjs [--out DIR] [--site DIR]
//                                                              [--previous CHECKPOINT_FILE]
//
// Runs the same wheelsig code as `wheelsig site build` (compiled to WebAssembly, shipped in
// wheelsig/pkg/) under plain Node 18+: no Rust toolchain, no npm install, no network. Exit 0:
// built; 1: the site has problems (each printed as "file: what is wrong"); 2: bad usage or I/O.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const LIMITS = { config: 64 << 10, keys: 1 << 20, signature: 1 << 20, releases: 100_000, logFile: 256 * 65537, logFiles: 1_000_000, checkpoint: 64 << 10 };
// The widget files a site serves under wheelsig/ (same list as the native CLI).
const WIDGET = ['wheel-verify.js', 'worker.js', 'worker-client.js', 'first-use.js', 'log-memory.js', 'escape.js', 'pkg/wheelsig.js', 'pkg/wheelsig_bg.wasm'];

class UsageError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(bytes, what) {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SiteProblem(what, 'not valid UTF-8');
  }
}
class SiteProblem extends Error {
  constructor(file, message) {
    super(message);
    this.problems = [{ path: file, message }];
    this.code = 'site';
  }
}

function parseArgs(argv) {
  const opts = { site: path.resolve(here, '..'), out: null, previous: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '--site' || arg === '--previous') {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a directory`);
      opts[arg.slice(2)] = path.resolve(argv[++i]);
    } else if (arg === '-h' || arg === '--help') {
      console.log('usage: node tools/build-site.mjs [--out DIR] [--site DIR] [--previous FILE]\n  --out       output directory [default: <site>/_site]\n  --site      the site sources [default: this tool\'s parent directory]\n  --previous  the checkpoint that is live now (the deployed log/checkpoint): fail unless the log extends it');
      process.exit(0);
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    }
  }
  opts.out ??= path.join(opts.site, '_site');
  return opts;
}

function readLimited(file, limit, what) {
  const size = fs.statSync(file).size;
  if (size > limit) throw new UsageError(`${file}: ${what} is ${size} bytes; the limit is ${limit}`);
  return fs.readFileSync(file);
}

/** Every releases/<project>/<file>, sorted like the native CLI (byte order of names). */
function readReleases(site) {
  const root = path.join(site, 'releases');
  const out = [];
  if (!fs.existsSync(root)) return out;
  const byName = (a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  for (const p of fs.readdirSync(root, { withFileTypes: true }).sort(byName)) {
    if (p.isSymbolicLink()) throw new UsageError(`${path.join(root, p.name)}: a symbolic link; releases/ may hold only folders and files`);
    if (!p.isDirectory()) {
      if (p.name !== 'README.md') throw new UsageError(`${path.join(root, p.name)}: expected only project directories in releases/`);
      continue;
    }
    for (const f of fs.readdirSync(path.join(root, p.name), { withFileTypes: true }).sort(byName)) {
      if (!f.isFile()) throw new UsageError(`${path.join(root, p.name, f.name)}: not a regular file (a link or a folder); releases/<project>/ may hold only signature files`);
      if (out.length >= LIMITS.releases) throw new UsageError(`${root}: more than ${LIMITS.releases} files`);
      const bytes = readLimited(path.join(root, p.name, f.name), LIMITS.signature, 'signature');
      out.push({ path: `releases/${p.name}/${f.name}`, bytes });
    }
  }
  return out;
}

/** Every file under log/ but witnessed.json (the publisher's own record), like the native CLI. */
function readLog(site) {
  const root = path.join(site, 'log');
  const out = [];
  let st;
  try {
    st = fs.lstatSync(root);
  } catch (err) {
    if (err.code === 'ENOENT') return out;
    throw err;
  }
  if (!st.isDirectory()) throw new UsageError(`${root}: not a folder (a link?)`);
  const byName = (a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true }).sort(byName)) {
      const sub = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(root, sub);
      if (e.isSymbolicLink()) throw new UsageError(`${full}: a symbolic link; log/ may hold only folders and files`);
      if (e.isDirectory()) walk(sub);
      else if (e.isFile()) {
        if (sub === 'witnessed.json') continue;
        if (out.length >= LIMITS.logFiles) throw new UsageError(`${root}: more than ${LIMITS.logFiles} files`);
        out.push({ path: `log/${sub}`, bytes: readLimited(full, LIMITS.logFile, 'a log file') });
      } else throw new UsageError(`${full}: not a regular file`);
    }
  };
  walk('');
  return out;
}

function write(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

async function main() {
  const { site, out, previous } = parseArgs(process.argv.slice(2));
  const pkg = path.join(site, 'wheelsig/pkg');
  const wasm = await import(new URL(`file://${path.join(pkg, 'wheelsig.js')}`).href);
  wasm.initSync({ module: fs.readFileSync(path.join(pkg, 'wheelsig_bg.wasm')) });

  const config = readLimited(path.join(site, 'site.json'), LIMITS.config, 'site.json');
  const keys = readLimited(path.join(site, 'keys.json'), LIMITS.keys, 'keys.json');
  const releases = readReleases(site);
  const log = readLog(site);
  const live = previous === null ? undefined : readLimited(previous, LIMITS.checkpoint, '--previous checkpoint');
  let built;
  try {
    built = wasm.build_site(text(config, 'site.json'), text(keys, 'keys.json'),
      releases.map((r) => ({ path: r.path, text: text(r.bytes, r.path) })),
      log.map((f) => ({ path: f.path, base64: f.bytes.toString('base64') })),
      live === undefined ? undefined : text(live, '--previous'));
  } catch (err) {
    if (err?.code !== 'site') throw err;
    for (const p of err.problems) console.error(`${site}: ${p.path}: ${p.message}`);
    console.error(`the site was not built: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}`);
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
  console.error(`built ${site} -> ${out}: ${built.keys} key${s(built.keys)}, ${built.releases.length} release${s(built.releases.length)}${logged}`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`build-site: error: ${err instanceof UsageError ? err.message : err?.message || err}`);
  process.exit(2);
});
