// Assemble the npm package of the <wheel-verify> widget: packages/wheel-verify/ (package.json,
// README, types, Custom Elements Manifest: the only committed files) plus the widget copied
// from www/ and the built wasm from www/pkg. Output: target/npm/wheel-verify/ (or --out DIR).
// With --pack DIR, also runs `npm pack` into DIR and prints the tarball's path.
// Refuses to assemble when the versions disagree (crate/Cargo.toml, package.json,
// WheelVerify.version) or a file the package lists is missing.
// Usage: node scripts/npm-pack.mjs [--out DIR] [--pack DIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(repo, 'packages/wheel-verify');
/** The widget's files, from www/ (the same list `wheelsig site init` copies). */
export const WIDGET = ['wheel-verify.js', 'worker.js', 'worker-client.js', 'first-use.js', 'log-memory.js', 'escape.js', 'pkg/wheelsig.js', 'pkg/wheelsig_bg.wasm'];
/** The committed files of the package. */
export const COMMITTED = ['package.json', 'README.md', 'wheel-verify.d.ts', 'custom-elements.json'];

/** crate/Cargo.toml's [package] version. */
export function crateVersion() {
  const toml = fs.readFileSync(path.join(repo, 'crate/Cargo.toml'), 'utf8');
  const pkg = toml.split(/^\[/m).find((s) => s.startsWith('package]'));
  const m = pkg && /^version\s*=\s*"([^"]+)"/m.exec(pkg);
  if (!m) throw new Error('no [package] version in crate/Cargo.toml');
  return m[1];
}

/** The `static version = '…'` of WheelVerify in www/wheel-verify.js. */
export function widgetVersion() {
  const m = /^\s*static\s+version\s*=\s*'([^']+)'/m.exec(fs.readFileSync(path.join(repo, 'www/wheel-verify.js'), 'utf8'));
  if (!m) throw new Error('no static version in www/wheel-verify.js');
  return m[1];
}

/** Copy everything into `out` (emptied first). Returns the package.json it used. */
export function assemble(out = path.join(repo, 'target/npm/wheel-verify')) {
  const pkg = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'));
  const versions = { 'crate/Cargo.toml': crateVersion(), 'packages/wheel-verify/package.json': pkg.version, 'WheelVerify.version': widgetVersion() };
  if (new Set(Object.values(versions)).size !== 1) throw new Error(`versions disagree: ${JSON.stringify(versions)}`);
  if (!fs.existsSync(path.join(repo, 'www/pkg/wheelsig_bg.wasm'))) throw new Error('www/pkg is missing: run npm start or npm test first (they build the wasm)');
  fs.rmSync(out, { recursive: true, force: true });
  for (const f of COMMITTED) fs.cpSync(path.join(source, f), path.join(out, f));
  for (const f of WIDGET) fs.cpSync(path.join(repo, 'www', f), path.join(out, f));
  const missing = pkg.files.filter((f) => !fs.existsSync(path.join(out, f)));
  if (missing.length) throw new Error(`package.json lists files that are not there: ${missing.join(', ')}`);
  return pkg;
}

/** `npm pack` of an assembled package into `dest`; the tarball's path. */
export function pack(dir, dest) {
  fs.mkdirSync(dest, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return path.join(dest, JSON.parse(out)[0].filename);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? path.resolve(args[i + 1]) : null; };
  const out = opt('--out') || path.join(repo, 'target/npm/wheel-verify');
  try {
    const pkg = assemble(out);
    console.log(`${pkg.name}@${pkg.version} assembled in ${path.relative(process.cwd(), out) || '.'}`);
    const dest = opt('--pack');
    if (dest) console.log(pack(out, dest));
  } catch (err) {
    console.error(`npm-pack: ${err.message}`);
    process.exit(2);
  }
}
