// What the template's Node tools share: reading the site's files within the same limits as
// the native CLI, and loading the wheelsig WebAssembly shipped in wheelsig/pkg/.
import fs from 'node:fs';
import path from 'node:path';

export const LIMITS = { config: 64 << 10, keys: 1 << 20, signature: 1 << 20, releases: 100_000, logFile: 256 * 65537, logFiles: 1_000_000, checkpoint: 64 << 10, witnessed: 1 << 20, audit: 64 << 20 };

/** Bad usage or an unreadable site: exit 2. */
export class UsageError extends Error {}

/** A problem in one of the site's files: exit 1. */
export class SiteProblem extends Error {
  constructor(file, message) {
    super(message);
    this.problems = [{ path: file, message }];
    this.code = 'site';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** `bytes` as text; not UTF-8 is a problem of the file `what`. */
export function text(bytes, what) {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SiteProblem(what, 'not valid UTF-8');
  }
}

export function readLimited(file, limit, what) {
  const size = fs.statSync(file).size;
  if (size > limit) throw new UsageError(`${file}: ${what} is ${size} bytes; the limit is ${limit}`);
  return fs.readFileSync(file);
}

/** Every releases/<project>/<file>, sorted like the native CLI (byte order of names). */
export function readReleases(site) {
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
export function readLog(site) {
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

export function write(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/** Write `data` to `file` by a rename, so a crash leaves the old file or the new one. */
export function replace(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, data, { flag: 'wx' });
  fs.renameSync(tmp, file);
}

/** The wheelsig wasm in `<site>/wheelsig/pkg/`, initialized. */
export async function loadWasm(site) {
  const pkg = path.join(site, 'wheelsig/pkg');
  const wasm = await import(new URL(`file://${path.join(pkg, 'wheelsig.js')}`).href);
  wasm.initSync({ module: fs.readFileSync(path.join(pkg, 'wheelsig_bg.wasm')) });
  return wasm;
}
