// Module worker: owns one wasm instance. Reads the dropped File in slices (FileReaderSync over
// Blob.slice), so a multi-gigabyte wheel never sits in memory; posts progress and results.
// Small calls (names, key sets) go through the same wasm so the page never re-implements them.
//
// One wheel can be spread over several of these workers (worker-client.js schedules): 'plan'
// reads the central directory and RECORD once and keeps the plan here; 'members' verifies a
// unit of members in any worker (hashing big members with WebCrypto when the scheduler grants
// memory for it); 'file-digest' hashes the whole file; 'finish' merges everything into the
// report, in the worker that holds the plan. 'verify' is the whole thing in one call.
import init, * as wasm from './pkg/wheelsig.js';

const ready = init();
const CALLS = new Set(['parse_key_set', 'parse_wheel_filename', 'normalize_project', 'version', 'generate_key', 'read_private_key', 'signature_urls', 'check_key_url', 'proof_checkpoint', 'log_compare', 'index_log_check']);
const plans = new Map(); // wheel key -> WheelPlan made here, until 'finish' or 'forget'
const verifiers = new Map(); // wheel key -> MemberVerifier (decoded work), the last two wheels
const SUBTLE = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
/** Members up to this size are gathered in the wasm memory for WebCrypto (crate/src/wasm.rs GATHER_MAX). */
const GATHER_MAX = 8 << 20;

self.onmessage = async (event) => {
  const { id, type } = event.data;
  try {
    const exports = await ready;
    const post = (value, transfer = []) => self.postMessage({ id, type: 'result', value, memory: exports.memory?.buffer.byteLength ?? null }, transfer);
    if (type === 'verify') {
      post(verify(id, event.data, exports));
    } else if (type === 'plan') {
      const { value, transfer } = plan(event.data);
      post(value, transfer);
    } else if (type === 'members') {
      const value = await members(id, event.data, exports);
      post(value, [value.unit.buffer, ...value.digests.map(([, d]) => d.buffer), ...value.offload.map(([, , b]) => b.buffer)]);
    } else if (type === 'digest') {
      const value = await digest(event.data);
      post(value, [value.buffer]);
    } else if (type === 'file-digest') {
      const value = await fileDigest(id, event.data);
      post(value, [value.buffer]);
    } else if (type === 'finish') {
      post(finish(event.data));
    } else if (type === 'forget') {
      forget(event.data.key);
      post(null);
    } else if (type === 'sign') {
      post(sign(event.data));
    } else if (type === 'call' && CALLS.has(event.data.fn)) {
      post(wasm[event.data.fn](...event.data.args));
    } else {
      throw { code: 'internal', message: `unknown request ${type}` };
    }
  } catch (error) {
    self.postMessage({ id, type: 'error', error: plainError(error) });
  }
};

/**
 * The wasm throws `Error` objects with a string `code`; structured clone keeps only an
 * Error's name and message, so post a plain `{code, message}` (and a site's `problems`).
 */
function plainError(error) {
  if (error && typeof error === 'object') {
    const out = { code: typeof error.code === 'string' ? error.code : 'internal', message: String(error.message ?? error) };
    if (Array.isArray(error.problems)) out.problems = JSON.parse(JSON.stringify(error.problems));
    return out;
  }
  return { code: 'internal', message: String(error) };
}

/** Bytes per FileReaderSync call for a unit: each call costs a round trip to the browser
 * process, so 64 MiB slices read ~25% faster than the wasm's 16 MiB windows. */
const READ_BLOCK = 64 << 20;

/**
 * `readAt(offset, length)` over `file`. With `end` (where the caller will most likely stop),
 * reads up to READ_BLOCK bytes at once, never past `end` unless asked, and serves the wasm's
 * windows from that block; at most one block is held. Every buffer handed out is released
 * (detached) at the next read and by `readAt.close()`: the wasm copies what it is given, and
 * an idle worker would otherwise keep hundreds of MB of garbage until its next GC.
 */
function reader(file, end = 0) {
  const r = new FileReaderSync();
  let held = null;
  const read = (a, b) => {
    if (held) release(held);
    held = new Uint8Array(r.readAsArrayBuffer(file.slice(a, b)));
    return held;
  };
  let block = null;
  let at = 0;
  const readAt = (offset, length) => {
    if (!end) return read(offset, offset + length);
    if (block && offset >= at && offset + length <= at + block.length) return block.subarray(offset - at, offset - at + length);
    block = null;
    const upto = Math.min(file.size, Math.max(offset + length, Math.min(end, offset + READ_BLOCK)));
    if (upto - offset <= length) return read(offset, offset + length);
    block = read(offset, upto);
    at = offset;
    return block.subarray(0, Math.min(length, block.length));
  };
  readAt.close = () => {
    if (held) release(held);
    held = block = null;
  };
  return readAt;
}

/** Progress for request `id`, at most every 50 ms (and always the last). */
function progressPoster(id, total) {
  let last = 0;
  return (done) => {
    const now = performance.now();
    if (now - last > 50 || done >= total) {
      last = now;
      self.postMessage({ id, type: 'progress', done, total });
    }
  };
}

/** Sign `file` with a private JWK: the detached `.jws` text, and optionally a signed copy (a Blob). */
function sign({ file, privateJwk, iat, keyUrl, embed }) {
  const readAt = reader(file);
  const jws = wasm.sign_detached(readAt, file.size, file.name, privateJwk, iat, keyUrl ?? undefined);
  let embedded = null;
  if (embed) {
    const chunks = [];
    wasm.sign_embedded(readAt, file.size, file.name, privateJwk, iat, keyUrl ?? undefined, (chunk) => chunks.push(chunk));
    embedded = new Blob(chunks, { type: 'application/zip' });
  }
  return { jws, embedded };
}

/** The whole verification in this worker, one wasm call. */
function verify(id, { file, input }, exports) {
  const progress = progressPoster(id, file.size);
  const started = performance.now();
  const readAt = reader(file);
  let report;
  try {
    report = wasm.verify_wheel(readAt, file.size, input, (done) => progress(done));
  } finally {
    readAt.close();
  }
  report.elapsed_ms = performance.now() - started;
  report.wasm_memory_bytes = exports.memory?.buffer.byteLength ?? null;
  report.engine = `wheelsig ${wasm.version()} (wasm)`;
  return report;
}

/** Plan one wheel here: its units for the scheduler, its work for the other workers. */
function plan({ key, file, input, parts, oneShotMin }) {
  forget(key);
  const p = new wasm.WheelPlan(reader(file), file.size, input);
  plans.set(key, p);
  const value = p.units(parts, oneShotMin);
  const work = p.work();
  value.work = work ?? null;
  value.version = wasm.version();
  return { value, transfer: work ? [work.buffer] : [] };
}

/**
 * Verify entries start..end of the wheel `key`. Members of at least `oneShotMin` bytes are
 * copied out of the wasm and hashed by `crypto.subtle.digest` (native SHA-2), as long as the
 * buffers stay within `allowance` bytes; every other member is hashed by the wasm as it
 * streams. Either way the wasm inflates, counts and CRC-checks every byte, so the checks are
 * the same. digest() copies its input before it returns (WebCrypto's rule): members up to
 * GATHER_MAX are gathered in the wasm memory and digested from there, bigger ones are copied
 * into one scratch buffer reused by every member up to `offloadMin`, and bigger ones still get
 * their own buffer, returned (transferred) for another worker to digest while this one goes on.
 */
async function members(id, { key, work, file, start, end, offset, endOffset, allowance, oneShotMin, offloadMin }, exports) {
  let v = verifiers.get(key);
  if (!v) {
    if (!work) throw { code: 'internal', message: 'this worker has no work for that wheel' };
    v = new wasm.MemberVerifier(work);
    verifiers.set(key, v);
    for (const [k, old] of verifiers) {
      if (verifiers.size <= 2) break;
      if (k !== key) { old.free(); verifiers.delete(k); }
    }
  }
  const progress = progressPoster(id, endOffset - offset);
  const subtle = allowance > 0 && globalThis.crypto?.subtle ? crypto.subtle : null;
  const pending = [];
  const offload = [];
  let scratch = null;
  let current = null; // [index, Uint8Array, alg, own buffer?]
  let held = 0; // bytes of our buffers plus WebCrypto's copies not yet known to be released
  let peak = 0;
  let hashed = 0;
  let hashedBytes = 0;
  const hold = (n) => {
    held += n;
    peak = Math.max(peak, held);
  };
  const external = subtle && ((index, size, alg) => {
    if (size < oneShotMin) return undefined;
    let buf;
    if (size <= GATHER_MAX && size < offloadMin) {
      // WebCrypto's copy is all the memory it takes outside the wasm.
      if (held + size > allowance) return undefined;
      current = [index, null, alg, false];
      return true;
    }
    if (size >= offloadMin) {
      if (held + 2 * size > allowance) return undefined;
      buf = new Uint8Array(size);
      hold(size);
      current = [index, buf, alg, true];
    } else {
      if (!scratch || scratch.length < size) {
        const grown = Math.max(size, Math.min(offloadMin, 2 * (scratch?.length ?? 0)));
        if (held - (scratch?.length ?? 0) + 2 * grown > allowance) return undefined;
        held -= scratch?.length ?? 0;
        scratch = new Uint8Array(grown);
        hold(grown);
      }
      if (held + size > allowance) return undefined;
      buf = scratch.subarray(0, size);
      current = [index, buf, alg, false];
    }
    return buf;
  });
  const ended = subtle && ((index, intact, length, ptr) => {
    const [i, ours, alg, own] = current;
    current = null;
    if (i !== index) throw new Error('external member out of order');
    const buf = ours ?? new Uint8Array(exports.memory.buffer, ptr, length);
    if (intact) {
      hashed++;
      hashedBytes += buf.length;
      if (own) {
        offload.push([index, alg, buf]);
        return;
      }
      hold(buf.length); // WebCrypto's copy, until its promise settles
      const size = buf.length;
      pending.push(subtle.digest(SUBTLE[alg], buf).then((d) => {
        held -= size;
        return [index, new Uint8Array(d)];
      }));
    } else if (own) {
      held -= buf.length;
      release(buf);
    }
  });
  let unit;
  const rd = reader(file, endOffset);
  let readMs = 0;
  const timedRead = (o, l) => { const t = performance.now(); const r = rd(o, l); readMs += performance.now() - t; return r; };
  const t0 = performance.now();
  try {
    unit = v.verify(timedRead, file.size, start, end, external || undefined, ended || undefined, (pos) => progress(pos - offset));
  } finally {
    rd.close();
    if (current?.[3]) release(current[1]);
    if (scratch) release(scratch);
  }
  const t1 = performance.now();
  const digests = await Promise.all(pending);
  const t2 = performance.now();
  // What the scheduler must keep reserved until the offloaded digests are done: each
  // buffer, and WebCrypto's copy of it.
  const keep = offload.reduce((a, [, , b]) => a + 2 * b.length, 0);
  return { unit, digests, offload, keep, stats: { hashed, hashedBytes, peak, readMs: Math.round(readMs), verifyMs: Math.round(t1 - t0), digestWaitMs: Math.round(t2 - t1) } };
}

/** Digest a member another worker read (its buffer transferred here). */
async function digest({ alg, buf }) {
  const d = crypto.subtle.digest(SUBTLE[alg], buf);
  release(buf);
  return new Uint8Array(await d);
}

/** Free a buffer's memory now where the browser can (ArrayBuffer.prototype.transfer). */
function release(buf) {
  try {
    buf.buffer.transfer?.(0);
  } catch {
    // Already detached, or not transferable: the garbage collector will free it.
  }
}

/** The whole file's SHA-256: one WebCrypto call on the file in memory when allowed, else the wasm streaming it. */
async function fileDigest(id, { file, oneShot }) {
  if (oneShot && globalThis.crypto?.subtle) {
    const buf = await file.arrayBuffer();
    const d = crypto.subtle.digest('SHA-256', buf);
    release(new Uint8Array(buf));
    self.postMessage({ id, type: 'progress', done: file.size, total: file.size });
    return new Uint8Array(await d);
  }
  const progress = progressPoster(id, file.size);
  const readAt = reader(file, file.size);
  try {
    return wasm.file_sha256(readAt, file.size, (done) => progress(done));
  } finally {
    readAt.close();
  }
}

/** Merge a wheel's units into its report, here where its plan is (planned again if this worker lost it). */
function finish({ key, file, input, units, digests, fileDigest: sha }) {
  let p = plans.get(key);
  plans.delete(key);
  if (!p) p = new wasm.WheelPlan(reader(file), file.size, input);
  try {
    return p.finish(units, digests, sha ?? undefined);
  } finally {
    p.free();
    forget(key);
  }
}

function forget(key) {
  plans.get(key)?.free();
  plans.delete(key);
  verifiers.get(key)?.free();
  verifiers.delete(key);
}
