#!/usr/bin/env node
// Have every witness in site.json cosign the release log's checkpoint:
//   node tools/cosign-site.mjs [--site DIR] [--if-needed]
//
// The same protocol as `wheelsig site cosign` (the core's log::cosign, compiled to WebAssembly
// in wheelsig/pkg/); this file only does the HTTP, with Node 18+'s fetch. When every witness
// cosigned, it writes log/checkpoint (with their cosignatures), log/witnessed.json and a
// .tlog-proof beside each logged release that has none. If any witness refused or could not
// be reached, nothing is written. --if-needed: ask no one when log/checkpoint already
// carries every witness's cosignature (only missing proofs are written), or when site.json
// has no log or no witnesses.
// Exit 0: cosigned (or nothing to do); 1: a witness refused or was unreachable; 2: bad usage or I/O.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMITS, UsageError, loadWasm, readLimited, readLog, readReleases, replace } from './site-files.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// What a witness may answer (a cosignature line or a size): more is cut off.
const MAX_ANSWER = 64 * 1024;
const TIMEOUT_MS = 30_000;

function parseArgs(argv) {
  const opts = { site: path.resolve(here, '..'), ifNeeded: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--site') {
      if (i + 1 >= argv.length) throw new UsageError('--site needs a directory');
      opts.site = path.resolve(argv[++i]);
    } else if (arg === '--if-needed') {
      opts.ifNeeded = true;
    } else if (arg === '-h' || arg === '--help') {
      console.log('usage: node tools/cosign-site.mjs [--site DIR] [--if-needed]\n  --site       the site sources [default: this tool\'s parent directory]\n  --if-needed  ask no witness when log/checkpoint already carries all their cosignatures');
      process.exit(0);
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    }
  }
  return opts;
}

/** POST `body` to `url`: {status, body} (at most MAX_ANSWER bytes of it), or {error}. */
async function post(url, body) {
  let resp;
  try {
    resp = await fetch(url, { method: 'POST', body, redirect: 'manual', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    return { error: `${url}: ${err?.cause?.message || err?.message || err}` };
  }
  const chunks = [];
  let size = 0;
  try {
    for await (const chunk of resp.body ?? []) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ANSWER) break; // the loop's return() cancels the rest
    }
  } catch (err) {
    return { error: `${url}: the answer was cut off: ${err?.message || err}` };
  }
  return { status: resp.status, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER) };
}

async function main() {
  const { site, ifNeeded } = parseArgs(process.argv.slice(2));
  const wasm = await loadWasm(site);
  const config = readLimited(path.join(site, 'site.json'), LIMITS.config, 'site.json').toString('utf8');
  const log = readLog(site).map((f) => ({ path: f.path, base64: f.bytes.toString('base64') }));
  const witnessedPath = path.join(site, 'log', 'witnessed.json');
  const witnessed = fs.existsSync(witnessedPath) ? readLimited(witnessedPath, LIMITS.witnessed, 'log/witnessed.json').toString('utf8') : undefined;
  const existing = readReleases(site).map((r) => r.path);

  if (ifNeeded) {
    let c;
    try {
      c = JSON.parse(config);
    } catch {
      c = null; // the wasm says what is wrong with it
    }
    if (c && (!c.log || !Array.isArray(c.witnesses) || c.witnesses.length === 0)) {
      console.error(`${site}: site.json has ${c.log ? 'no witnesses' : 'no release log'}: nothing to cosign`);
      return 0;
    }
  }
  let round;
  try {
    round = new wasm.SiteCosign(config, log, witnessed);
  } catch (err) {
    if (err?.code === 'cosign') throw new UsageError(`${site}: ${err.message}`);
    throw err;
  }
  const { origin, size } = round.checkpoint();
  let files;
  if (ifNeeded && round.already_cosigned()) {
    files = round.finish_given(existing);
    if (files.length === 0) {
      console.error(`${origin} at size ${size} is already cosigned by every witness: nothing to do`);
      return 0;
    }
  } else {
    for (let req = round.next_request(); req !== null; req = round.next_request()) {
      const a = await post(req.url, req.body);
      round.answer(req.witness, a.status, a.body, a.error);
    }
    let done;
    try {
      done = round.finish(existing);
    } catch (err) {
      if (err?.code !== 'cosign') throw err;
      for (const p of err.problems) console.error(`cosign-site: ${p}`);
      console.error('cosign-site: not cosigned by every witness: nothing was written (run it again once they accept)');
      return 1;
    }
    for (const [name, at] of done.witnesses) console.error(`witness ${name} cosigned ${origin} at size ${at}`);
    files = done.files;
  }
  // Proofs first, the checkpoint last: an interrupted run leaves the old checkpoint.
  for (const [rel, text] of files) replace(path.join(site, rel), text);
  const proofs = files.filter(([rel]) => rel.endsWith('.tlog-proof')).length;
  console.error(`wrote ${files.length - proofs} log file${files.length - proofs === 1 ? '' : 's'} and ${proofs} new .tlog-proof file${proofs === 1 ? '' : 's'}`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`cosign-site: error: ${err instanceof UsageError ? err.message : err?.message || err}`);
  process.exit(2);
});
