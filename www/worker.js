// Module worker: owns the wasm. Reads the dropped File in slices (FileReaderSync over
// Blob.slice), so a multi-gigabyte wheel never sits in memory; posts progress and the report.
import init, { verify_wheel, version } from './pkg/wheelsig.js';

const ready = init();

self.onmessage = async (event) => {
  const { id, type, file, input } = event.data;
  if (type !== 'verify') return;
  try {
    await ready;
    const reader = new FileReaderSync();
    const readAt = (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
    let last = 0;
    const onProgress = (done, total) => {
      const now = performance.now();
      if (now - last > 50 || done === total) {
        last = now;
        self.postMessage({ id, type: 'progress', done, total });
      }
    };
    const started = performance.now();
    const report = verify_wheel(readAt, file.size, input, onProgress);
    report.elapsed_ms = performance.now() - started;
    report.wasm_memory_bytes = wasmMemoryBytes();
    report.engine = `wheelsig ${version()} (wasm)`;
    self.postMessage({ id, type: 'result', report });
  } catch (error) {
    const e = error && typeof error === 'object' && 'code' in error ? error : { code: 'internal', message: String(error?.message || error) };
    self.postMessage({ id, type: 'error', error: e });
  }
};

function wasmMemoryBytes() {
  try {
    return ready && globalThis.__wheelsigMemory ? globalThis.__wheelsigMemory.buffer.byteLength : null;
  } catch {
    return null;
  }
}

ready.then((exports) => {
  globalThis.__wheelsigMemory = exports.memory;
});
