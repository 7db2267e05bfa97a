// Shared by the end-to-end tests: Debian's Chromium with the flags this machine needs, the
// page errors a test must fail on, a real DataTransfer drop onto <wheel-verify>, and the real
// services the tests start on loopback (pypiserver, `wheelsig witness serve`).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** Headless Debian Chromium; no background networking (the machine's network is closed). */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Uncaught page errors and Content-Security-Policy violations (only console messages). */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  return errors;
}

/** Drop `files` (paths) on the first <wheel-verify>'s drop zone, after clearing its verdict and cards. */
export async function dropFiles(page, files) {
  const payload = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate((items) => {
    const el = document.querySelector('wheel-verify');
    el.removeAttribute('verdict');
    el.shadowRoot.querySelector('.cards').replaceChildren();
    const dt = new DataTransfer();
    for (const { name, b64 } of items) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    el.shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}


/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * pypiserver (`bin`, from the venv) serving `dir` with sha256 hashes (tests/interop/test_index_log.py's
 * command line); the process is pushed onto `procs`. Resolves with its simple index URL once it answers.
 */
export async function startPypiserver(bin, dir, procs) {
  const port = await freePort();
  const proc = spawn(bin, ['run', '-p', String(port), '-i', '127.0.0.1', '--hash-algo', 'sha256', '--disable-fallback', '--backend', 'simple-dir', '-a', '.', '-P', '.', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(proc);
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const url = `http://127.0.0.1:${port}/simple/`;
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`pypiserver exited: ${err}`);
    try {
      if ((await fetch(url)).ok) return url;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pypiserver did not start: ${err}`);
}

/**
 * `wheelsig witness serve` (the CLI at `cli`) for the log `logVkey`, its key and database under `dir`,
 * on a free loopback port; the process is pushed onto `procs`. Resolves with { name, vkey, url } once
 * it listens.
 */
export function startWitness({ cli, dir, name, logVkey, procs }) {
  fs.mkdirSync(dir, { recursive: true });
  const vkey = execFileSync(cli, ['witness', 'keygen', '--name', name, '--out', path.join(dir, 'key')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const proc = spawn(cli, ['witness', 'serve', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'db'), '--key', path.join(dir, 'key'), '--log', logVkey], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`witness ${name} did not start: ${err}`)), 30_000);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ name, vkey, url: `${m[1]}/` });
      }
    });
    proc.on('exit', (code) => reject(new Error(`witness ${name} exited (${code}): ${err}`)));
  });
}
