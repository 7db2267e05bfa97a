// The verification workers: one pool per page, shared by every <wheel-verify> element and
// VerifierClient. Workers start lazily (at most one per core, at most 4), each owns a wasm
// instance, runs one request at a time, and all are let go after a minute idle.
//
// A small wheel is verified by one worker in one call. A bigger one is spread over the pool
// (docs/SPEC.md "wasm API: one wheel on several workers"): one worker plans it (central
// directory, layout, RECORD: small reads), the members are cut into units that any worker
// verifies, largest first, each reading its own slices of the File, and the planning worker
// merges the units into the report, exactly the report the one-call path gives. Members of at
// least ONE_SHOT_MIN bytes are hashed by WebCrypto (native SHA-256, ~4x the wasm's) when the
// memory budget allows: that needs the member in memory, twice for a moment (WebCrypto copies
// its input), so each unit is granted part of the budget and falls back to the wasm's
// streaming hash for what does not fit. Cancelling stops every worker on that wheel.
const IDLE_MS = 60_000;
/** Files at least this big are spread over the pool (smaller ones: one call, fastest verdict). */
const SPLIT_MIN = 4 << 20;
/** Members at least this big are hashed by WebCrypto, within the budget (smaller: the wasm; a call costs ~5 µs). */
const ONE_SHOT_MIN = 8 << 10;
/**
 * Members at least this big get their own buffer, digested by whichever worker is free (in
 * Chromium digest() runs on the calling thread, at about 1 ns a byte with its copy).
 */
const OFFLOAD_MIN = 16 << 20;
/** Units per worker: enough to balance the load, few enough to keep per-unit costs small. */
const UNITS_PER_WORKER = 6;
const GiB = 1 << 30;
/**
 * After a wheel at least this big, the workers it used are replaced by fresh ones as soon as
 * they are idle: the buffers it read are freed only by a garbage collection, which an idle
 * worker never runs (measured: ~1 GB held after the 508 MiB benchmark wheel, 0 after this).
 */
const RECYCLE_MIN = 64 << 20;

/**
 * The memory budget for transient JS buffers (members held for WebCrypto, the whole file for
 * its digest): a quarter of the device memory the browser reports, at most 2 GiB; nothing
 * where that is under 2 GiB (everything is then hashed by the wasm, streaming, in 64 KiB
 * chunks). Browsers without navigator.deviceMemory (Firefox, Safari) count as 4 GiB.
 */
export function memoryBudget(deviceMemory = globalThis.navigator?.deviceMemory) {
  const gib = typeof deviceMemory === 'number' && deviceMemory > 0 ? deviceMemory : 4;
  return gib < 2 ? 0 : Math.min(2 * GiB, Math.floor((gib * GiB) / 4));
}

function defaultWorkers() {
  return Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency || 1));
}

/**
 * The worker's URL, next to this module (so any page path can embed it). A worker script must
 * be same-origin with the page: when this module was loaded from another origin (a docs site
 * embedding the publisher's copy), start a same-origin blob module worker that imports the
 * real one; that needs the host to serve the files with CORS, as GitHub Pages does.
 */
function workerUrl() {
  const url = new URL('./worker.js', import.meta.url);
  if (url.origin === self.location.origin) return url;
  const source = `import ${JSON.stringify(url.href)};\n`;
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

function abortError() {
  return { code: 'aborted', message: 'verification cancelled' };
}

/** A worker slot: the worker (or null once stopped), its request, what it keeps. */
class Slot {
  worker = null;
  task = null;
  work = new Set(); // wheel keys whose member work this worker has decoded
  memory = 0; // its wasm memory, last reported
  recycle = false; // replace it with a fresh worker once idle
}

class Pool {
  #slots = [];
  #queue = [];
  #nextId = 1;
  #seq = 0;
  #reserved = 0;
  #livePlans = 0; // wheels planned and not yet finished (each plan lives in one worker's wasm)
  #idleTimer = null;
  idleMs = IDLE_MS;
  /** Settings (configure()): workers, budget, oneShotMin, splitMin, unitsPerWorker. */
  settings = {};

  get running() {
    return this.#slots.some((s) => s.worker);
  }

  get workers() {
    return Math.max(1, Math.min(16, this.settings.workers ?? defaultWorkers()));
  }

  get budget() {
    return this.settings.budget ?? memoryBudget();
  }

  /** One request on any worker: `cls` 0 (small calls) goes before wheels' work. */
  request(message, { cls = 1 } = {}) {
    const seq = cls === 0 ? 0 : ++this.#seq;
    return this.#run({ prio: [cls, seq, 0], build: () => ({ message }) });
  }

  /**
   * Verify `file`. Options (else the pool's settings): `workers` (at most this many on this
   * wheel), `split` (true/false: force or forbid spreading it; default by size), `oneShotMin`
   * and `budget` (the WebCrypto rule above; budget 0 = wasm only).
   */
  async verify(file, input, { onProgress, signal, ...options } = {}) {
    const o = { ...this.settings, ...options };
    const workers = Math.max(1, Math.min(this.workers, o.workers ?? this.workers));
    const wheel = { key: `wheel-${++this.#seq}`, seq: this.#seq, tasks: new Set(), failed: null, planSlot: null, memory: 0, reserved: 0, peakReserved: 0, budget: Infinity, started: performance.now(), timeline: [] };
    if (signal?.aborted) throw abortError();
    const onAbort = () => this.#stopWheel(wheel, abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const split = o.split ?? (workers > 1 && file.size >= (o.splitMin ?? SPLIT_MIN));
      if (!split) {
        const report = await this.#wheelTask(wheel, { kind: 'verify', build: () => ({ message: { type: 'verify', file, input } }), onProgress });
        report.engine = `${report.engine.replace(/\)$/, '')}; 1 worker)`;
        const stats = { workers: 1, units: 1, split: false, webcrypto_members: 0, webcrypto_bytes: 0, peak_buffer_bytes: 0, budget_bytes: 0, wasm_memory_bytes: report.wasm_memory_bytes, timeline: wheel.timeline, slots: [...new Set(wheel.timeline.map((t) => t[1]))] };
        Object.defineProperty(report, 'engine_stats', { value: stats, enumerable: false });
        return report;
      }
      return await this.#verifySplit(wheel, file, input, { ...o, workers }, onProgress);
    } catch (err) {
      this.#stopWheel(wheel, err);
      throw wheel.failed ?? err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (file.size >= (o.recycleMin ?? RECYCLE_MIN)) this.#recycle(wheel);
    }
  }

  /** Replace the workers `wheel` used with fresh ones, now for idle ones, else when idle. */
  #recycle(wheel) {
    for (const i of new Set(wheel.timeline.map((t) => t[1]))) {
      const slot = this.#slots[i];
      if (slot?.worker) slot.recycle = true;
    }
    this.#pump();
  }

  async #verifySplit(wheel, file, input, o, onProgress) {
    const started = performance.now();
    const { key } = wheel;
    const oneShotMin = o.oneShotMin ?? ONE_SHOT_MIN;
    const budget = Math.min(this.budget, o.budget ?? this.budget);
    wheel.budget = budget;
    const parts = Math.max(1, o.workers * (o.unitsPerWorker ?? UNITS_PER_WORKER));
    const offloadMin = o.offloadMin ?? OFFLOAD_MIN;
    this.#warm(o.workers);
    const plan = await this.#wheelTask(wheel, { kind: 'plan', plan: true, build: () => ({ message: { type: 'plan', key, file, input, parts, oneShotMin } }), onRun: (slot) => { wheel.planSlot = slot; } });
    const { units, work, needs_file_digest: needsDigest } = plan;
    // Progress: the bytes of each unit's span read so far, plus the file digest's.
    const done = new Float64Array(units.length + 1);
    const total = units.reduce((a, u) => a + (u.end_offset - u.offset), 0) + (needsDigest ? file.size : 0);
    const report = (i, d) => {
      done[i] = d;
      onProgress?.(done.reduce((a, b) => a + b, 0), total);
    };
    const order = units.map((u, i) => [u, i]).sort((a, b) => b[0].cost - a[0].cost);
    const jobs = order.map(([u, i], rank) => this.#wheelTask(wheel, {
      kind: `members ${u.start}-${u.end} ${Math.round(u.cost / 1e6)}MB`,
      order: rank + 1,
      cap: o.workers,
      // Buffers for WebCrypto: every big member's, as if WebCrypto finished none before the
      // unit ends (its callbacks only run then), plus one more for the largest (copied by
      // digest() while ours still exists); at least that largest twice, within the budget.
      want: u.big && 2 * u.largest <= budget ? Math.min(budget, u.big + u.largest) : 0,
      build: (slot, allowance) => ({
        message: { type: 'members', key, work: slot.work.has(key) ? null : work, file, start: u.start, end: u.end, offset: u.offset, endOffset: u.end_offset, allowance, oneShotMin, offloadMin },
        after: () => remember(slot, key),
      }),
      onProgress: (d) => report(i, d),
    }).then((out) => this.#offloaded(wheel, out)));
    let fileDigest = null;
    if (needsDigest) {
      jobs.push(this.#wheelTask(wheel, {
        kind: 'file-digest',
        order: 0.5,
        cap: o.workers,
        want: 2 * file.size <= budget ? 2 * file.size : 0,
        build: (slot, allowance) => ({ message: { type: 'file-digest', file, oneShot: allowance >= 2 * file.size } }),
        onProgress: (d) => report(units.length, d),
      }).then((d) => { fileDigest = d; return null; }));
    }
    const outs = (await Promise.all(jobs)).filter(Boolean);
    const stats = { workers: o.workers, units: units.length, split: true, webcrypto_members: 0, webcrypto_bytes: 0, peak_buffer_bytes: 0, budget_bytes: budget, wasm_memory_bytes: 0 };
    for (const out of outs) {
      stats.webcrypto_members += out.stats.hashed;
      stats.webcrypto_bytes += out.stats.hashedBytes;
      stats.peak_buffer_bytes = Math.max(stats.peak_buffer_bytes, out.stats.peak);
    }
    stats.granted_peak_bytes = wheel.peakReserved;
    stats.timeline = wheel.timeline;
    stats.units_detail = outs.map((o) => o.stats);
    const unitBytes = outs.map((out) => out.unit);
    const digests = outs.flatMap((out) => out.digests);
    const result = await this.#wheelTask(wheel, {
      kind: 'finish',
      order: -1,
      affinity: wheel.planSlot,
      build: (slot) => ({
        message: { type: 'finish', key, file, input, units: unitBytes, digests, fileDigest },
        transfer: [...unitBytes.map((u) => u.buffer), ...digests.map(([, d]) => d.buffer)],
        after: () => slot.work.delete(key),
      }),
    });
    this.#unplan(wheel);
    result.elapsed_ms = performance.now() - started;
    result.wasm_memory_bytes = wheel.memory;
    stats.wasm_memory_bytes = wheel.memory;
    stats.slots = [...new Set(wheel.timeline.map((t) => t[1]))];
    const mib = (n) => `${Math.round(n / 1048576)} MiB`;
    const hashed = stats.webcrypto_members ? `; SHA-256 of ${stats.webcrypto_members} member${stats.webcrypto_members === 1 ? '' : 's'} (${mib(stats.webcrypto_bytes)}) by WebCrypto` : '';
    result.engine = `wheelsig ${plan.version} (wasm; ${o.workers} worker${o.workers === 1 ? '' : 's'}${hashed})`;
    Object.defineProperty(result, 'engine_stats', { value: stats, enumerable: false });
    return result;
  }

  /**
   * A unit's big members, read into buffers: digest each on whichever worker is free (first in
   * the wheel's queue: they are on its critical path), within the memory the unit kept.
   */
  async #offloaded(wheel, out) {
    const extra = await Promise.all(out.offload.map(([index, alg, buf]) => this.#wheelTask(wheel, {
      kind: `digest ${index} ${Math.round(buf.length / 1e6)}MB`,
      order: -0.5,
      prepaid: 2 * buf.length,
      build: () => ({ message: { type: 'digest', alg, buf }, transfer: [buf.buffer] }),
    }).then((d) => [index, d])));
    out.digests.push(...extra);
    out.offload = [];
    return out;
  }

  /** Start up to `n` workers now, so they load the wasm while the plan is made. */
  #warm(n) {
    while (this.#slots.length < Math.min(n, this.workers)) {
      const slot = new Slot();
      this.#spawn(slot);
      this.#slots.push(slot);
    }
    for (const slot of this.#slots.slice(0, n)) if (!slot.worker) this.#spawn(slot);
  }

  /** A task of `wheel`: rejected, and the wheel stopped, if any of its tasks fails. */
  #wheelTask(wheel, task) {
    if (wheel.failed) {
      this.#unreserve(wheel, task.prepaid ?? 0);
      return Promise.reject(wheel.failed);
    }
    return this.#run({ ...task, wheel, prio: [1, wheel.seq, task.order ?? 0] });
  }

  #run(task) {
    return new Promise((resolve, reject) => {
      Object.assign(task, { id: this.#nextId++, resolve, reject, granted: 0 });
      // Memory an earlier task kept for this one (released when this one settles).
      if (task.prepaid) task.granted = task.prepaid;
      task.wheel?.tasks.add(task);
      this.#queue.push(task);
      this.#queue.sort((a, b) => a.prio[0] - b.prio[0] || a.prio[1] - b.prio[1] || a.prio[2] - b.prio[2]);
      this.#pump();
    });
  }

  /** How many of the wheel's tasks are running. */
  #runningFor(wheel) {
    return this.#slots.reduce((n, s) => n + (s.task?.wheel === wheel ? 1 : 0), 0);
  }

  #pump() {
    clearTimeout(this.#idleTimer);
    for (const slot of this.#slots) {
      if (slot.recycle && !slot.task) {
        slot.recycle = false;
        this.#stop(slot);
        this.#spawn(slot);
      }
    }
    for (;;) {
      const pick = this.#pick();
      if (!pick) break;
      const [task, slot, granted] = pick;
      this.#queue.splice(this.#queue.indexOf(task), 1);
      this.#start(slot, task, granted);
    }
    if (!this.#queue.length && this.#slots.every((s) => !s.task)) {
      this.#idleTimer = setTimeout(() => this.#terminateIdle(), this.idleMs);
    }
  }

  /** The next [task, slot, memory granted] that can start now, or null. */
  #pick() {
    const free = this.#slots.filter((s) => !s.task);
    const canSpawn = this.#slots.length < this.workers;
    if (!free.length && !canSpawn) return null;
    const poolFree = Math.max(0, this.budget - this.#reserved);
    for (const task of this.#queue) {
      if (task.cap && this.#runningFor(task.wheel) >= task.cap) continue;
      // At most as many wheels planned at once as there are workers: a batch of big wheels
      // then never piles plans up in one worker's wasm memory.
      if (task.plan && this.#livePlans >= this.workers) continue;
      let slot;
      if (task.affinity?.worker) {
        if (task.affinity.task) continue; // wait for the worker that holds the plan
        slot = task.affinity;
      } else {
        slot = free[0] ?? null;
      }
      let granted = 0;
      if (task.want) {
        // The pool's budget, and the wheel's share of it. Wait for memory another task holds
        // when the whole want fits; else take what is free.
        const free = Math.min(poolFree, Math.max(0, task.wheel.budget - task.wheel.reserved));
        if (task.want > free && task.want <= task.wheel.budget && this.#reserved > 0) continue;
        granted = Math.min(task.want, free);
      }
      if (!slot) {
        if (!canSpawn) continue;
        slot = new Slot();
        this.#slots.push(slot);
      }
      return [task, slot, granted];
    }
    return null;
  }

  #unplan(wheel) {
    if (wheel.planned) {
      wheel.planned = false;
      this.#livePlans--;
    }
  }

  #reserve(wheel, n) {
    this.#reserved += n;
    if (wheel) {
      wheel.reserved += n;
      wheel.peakReserved = Math.max(wheel.peakReserved, wheel.reserved);
    }
  }

  #unreserve(wheel, n) {
    this.#reserved -= n;
    if (wheel) wheel.reserved -= n;
  }

  #start(slot, task, granted) {
    if (!slot.worker) this.#spawn(slot);
    slot.task = task;
    task.slot = slot;
    task.granted += granted;
    this.#reserve(task.wheel, granted);
    task.startedAt = performance.now();
    if (task.plan) {
      this.#livePlans++;
      task.wheel.planned = true;
    }
    task.onRun?.(slot);
    try {
      const { message, transfer = [], after } = task.build(slot, granted);
      task.after = after;
      slot.worker.postMessage({ id: task.id, ...message }, transfer);
    } catch (err) {
      this.#settle(slot, task, { type: 'error', error: { code: 'internal', message: String(err?.message ?? err) } });
    }
  }

  #spawn(slot) {
    const url = workerUrl();
    const worker = new Worker(url, { type: 'module', name: 'wheelsig' });
    if (typeof url === 'string') setTimeout(() => URL.revokeObjectURL(url), 60_000);
    worker.onmessage = (e) => this.#onMessage(slot, e.data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      this.#lose(slot, { code: 'worker', message: e.message || 'the verification worker failed to start' });
    };
    worker.onmessageerror = () => this.#lose(slot, { code: 'worker', message: 'a message from the verification worker could not be read' });
    slot.worker = worker;
    slot.work.clear();
  }

  #onMessage(slot, msg) {
    const task = slot.task;
    if (!task || msg.id !== task.id) return;
    if (msg.type === 'progress') {
      task.onProgress?.(msg.done, msg.total);
      return;
    }
    this.#settle(slot, task, msg);
  }

  #settle(slot, task, msg) {
    slot.task = null;
    if (task.wheel && task.startedAt) {
      const t = (x) => Math.round(x - task.wheel.started);
      task.wheel.timeline.push([task.kind ?? '', this.#slots.indexOf(slot), t(task.startedAt), t(performance.now()), task.granted]);
    }
    // A unit that hands buffers on keeps their memory reserved for the tasks digesting them.
    const keep = msg.type === 'result' ? Math.min(task.granted, msg.value?.keep ?? 0) : 0;
    this.#unreserve(task.wheel, task.granted - keep);
    task.granted = 0;
    task.wheel?.tasks.delete(task);
    if (typeof msg.memory === 'number') {
      slot.memory = msg.memory;
      if (task.wheel) task.wheel.memory = Math.max(task.wheel.memory, msg.memory);
    }
    if (msg.type === 'result') {
      task.after?.();
      task.resolve(msg.value);
    } else {
      task.reject(msg.error);
      if (task.wheel) this.#stopWheel(task.wheel, msg.error);
    }
    this.#pump();
  }

  /** A worker died: its request fails, and it is replaced on demand. */
  #lose(slot, error) {
    const task = slot.task;
    this.#stop(slot);
    if (task) this.#settle(slot, task, { type: 'error', error });
    else this.#pump();
  }

  #stop(slot) {
    slot.worker?.terminate();
    slot.worker = null;
    slot.work.clear();
  }

  /**
   * Stop everything of `wheel` (cancelled, or one of its tasks failed): queued tasks are
   * dropped, workers running its tasks are stopped (wasm cannot be interrupted mid-call;
   * they are replaced on demand), and the worker holding its plan forgets it.
   */
  #stopWheel(wheel, error) {
    if (wheel.failed) return;
    wheel.failed = error;
    for (const task of [...wheel.tasks]) {
      const queued = this.#queue.indexOf(task);
      if (queued >= 0) this.#queue.splice(queued, 1);
      else if (task.slot?.task === task) {
        this.#stop(task.slot);
        task.slot.task = null;
      }
      this.#unreserve(wheel, task.granted);
      task.granted = 0;
      wheel.tasks.delete(task);
      task.reject(error);
    }
    this.#unplan(wheel);
    const holder = wheel.planSlot;
    for (const slot of this.#slots) slot.work.delete(wheel.key);
    if (holder?.worker) {
      this.#run({ prio: [0, 0, 0], affinity: holder, build: () => ({ message: { type: 'forget', key: wheel.key } }) }).catch(() => {});
    }
    this.#pump();
  }

  #terminateIdle() {
    if (this.#queue.length || this.#slots.some((s) => s.task)) return;
    for (const slot of this.#slots) this.#stop(slot);
    this.#slots = [];
  }
}

/**
 * Note that `slot`'s worker has decoded `key`'s work; like the worker (worker.js), keep the
 * last two wheels only.
 */
function remember(slot, key) {
  slot.work.add(key);
  for (const k of slot.work) {
    if (slot.work.size <= 2) break;
    if (k !== key) slot.work.delete(k);
  }
}

let shared = null;
/** The page's pool (one per module instance). */
function pool() {
  shared ??= new Pool();
  return shared;
}

/**
 * Tune the page's pool (benchmarks, tests, embedders): `{workers, budget, oneShotMin,
 * splitMin, unitsPerWorker}`; `null` restores a default. Returns the settings in force.
 */
export function configurePool(settings = {}) {
  const p = pool();
  for (const [k, v] of Object.entries(settings)) {
    if (v === null || v === undefined) delete p.settings[k];
    else p.settings[k] = v;
  }
  return { workers: p.workers, budget: p.budget, oneShotMin: p.settings.oneShotMin ?? ONE_SHOT_MIN, splitMin: p.settings.splitMin ?? SPLIT_MIN, unitsPerWorker: p.settings.unitsPerWorker ?? UNITS_PER_WORKER };
}

export class VerifierClient {
  constructor({ idleMs = IDLE_MS } = {}) {
    if (idleMs !== IDLE_MS) pool().idleMs = idleMs;
  }

  /** Whether a worker is running (for tests and diagnostics). */
  get running() {
    return pool().running;
  }

  /**
   * Verify `file` (a File/Blob). Resolves with the report; rejects with {code, message}.
   * Options besides onProgress and signal: see Pool.verify (workers, split, oneShotMin, budget).
   */
  verify(file, input, options = {}) {
    return pool().verify(file, input, options);
  }

  /** Sign `file` (a File): `{privateJwk, iat, keyUrl, embed}` → `{jws, embedded: Blob|null}`. */
  sign(file, options) {
    return pool().request({ type: 'sign', file, ...options });
  }

  /** Call one of the wasm's small exports (parse_key_set, parse_wheel_filename, …). */
  call(fn, ...args) {
    return pool().request({ type: 'call', fn, args }, { cls: 0 });
  }
}
