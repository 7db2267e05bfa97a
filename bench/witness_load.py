#!/usr/bin/env python3
"""Load and fault benchmark for `wheelsig witness serve` (C2SP tlog-witness) on loopback.

Two runs, each on a fresh database, each LOGS logs x CHECKPOINTS checkpoints submitted by
CLIENTS client threads (keep-alive HTTP), some logs by two racing submitters, while a forger
thread submits log-signed forks (same size and another root, or growing from another root):

1. load:  throughput (requests/s) and latency (p50/p99) of add-checkpoint.
2. fault: the same load, SIGKILLed at a random moment and restarted on the same database.

Both runs then assert:
  (a) no acknowledged state lost: per log, the stored size (GET <sha256(origin)>/checkpoint)
      is at least the largest size that got a 200, and right after the restart, at least the
      largest size acknowledged before the kill;
  (b) no split view: every cosignature received verifies (cosignature/v1, the witness vkey)
      over a checkpoint whose root is the clients' own tree hash at that size, so the
      witness never cosigned two inconsistent checkpoints for a log; no fork was cosigned.

Usage: npm run bench:witness   (builds the release binary first)
       WHEELSIG=target/debug/wheelsig python bench/witness_load.py   (an existing binary)
       LOGS=50 CHECKPOINTS=200 CLIENTS=12 SEED=1 ... (the defaults)
"""
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "interop"))
try:
    from tlog import Client, NoteKey, Tree, add_checkpoint_body, checkpoint_text, leaf_hash, origin_hash, signed_note, verify_cosignature
except ImportError as e:  # the venv from scripts/setup.sh has `cryptography`
    sys.exit(f"witness_load: {e}; run with the project venv (.venv/bin/python; scripts/setup.sh makes it)")

LOGS = int(os.environ.get("LOGS", 50))
CHECKPOINTS = int(os.environ.get("CHECKPOINTS", 200))
CLIENTS = int(os.environ.get("CLIENTS", 12))
SEED = int(os.environ.get("SEED", 1))
CONTENDED = 0.2  # share of logs with two racing submitters
FORKS = int(os.environ.get("FORKS", 300))  # fork submissions per run


def build_binary() -> Path:
    if os.environ.get("WHEELSIG"):
        return Path(os.environ["WHEELSIG"]).resolve()
    print("== build (release)", flush=True)
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--bin", "wheelsig"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "wheelsig"


class BenchLog:
    """One log: a tree, its checkpoint sizes and every add-checkpoint body between them."""

    def __init__(self, i: int, rng: random.Random):
        self.origin = f"bench.example/log{i}"
        self.key = NoteKey(self.origin, bytes([i % 256, i // 256]) + bytes(30))
        self.tree = Tree()
        self.sizes = []
        for _ in range(CHECKPOINTS):
            for _ in range(rng.randint(1, 8)):
                self.tree.append(b"%s entry %d" % (self.origin.encode(), len(self.tree)))
            self.sizes.append(len(self.tree))
        self.index = {s: n for n, s in enumerate(self.sizes)}
        self.texts = [checkpoint_text(self.origin, s, self.tree.root(s)) for s in self.sizes]
        self.notes = [signed_note(t, self.key) for t in self.texts]

    def body(self, old: int, n: int) -> bytes:
        """The request for checkpoint n, from old size `old`."""
        return add_checkpoint_body(old, self.tree.consistency(old, self.sizes[n]), self.notes[n])


class Witness:
    def __init__(self, binary: Path, tmp: Path, logs, port: int):
        self.binary, self.tmp, self.logs, self.port = binary, tmp, logs, port
        self.key = tmp / "witness.key"
        self.db = tmp / "witness.db"
        out = subprocess.run([str(binary), "witness", "keygen", "--name", "bench.witness/w1", "--out", str(self.key)], capture_output=True, text=True, check=True)
        self.vkey = out.stdout.strip()
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.tmp / f"witness-{self.starts}.log", "wb")
        args = [str(self.binary), "witness", "serve", "--listen", f"127.0.0.1:{self.port}", "--db", str(self.db), "--key", str(self.key), "--workers", "16"]
        for l in self.logs:
            args += ["--log", l.key.vkey()]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if b"listening on" in (self.tmp / f"witness-{self.starts}.log").read_bytes():
                return
            if self.proc.poll() is not None:
                raise SystemExit((self.tmp / f"witness-{self.starts}.log").read_text())
            time.sleep(0.01)
        raise SystemExit("witness did not start")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    def stored(self, log: BenchLog):
        """(size, root-matches-our-tree, cosignature-verifies) of the served checkpoint, or None."""
        status, _, body = Client("127.0.0.1", self.port).request("GET", f"/{origin_hash(log.origin)}/checkpoint")
        if status == 404:
            return None
        assert status == 200, (status, body)
        text, sigs = body.decode().split("\n\n", 1)
        origin, size, root = text.split("\n")
        size = int(size)
        text += "\n"
        ok_root = text == checkpoint_text(log.origin, size, log.tree.root(size))
        verify_cosignature(self.vkey, text, sigs.splitlines(keepends=True)[-1])
        return size, ok_root


class Run:
    def __init__(self, name, witness: Witness, logs):
        self.name, self.w, self.logs = name, witness, logs
        self.lock = threading.Lock()
        self.latencies = []
        self.statuses = {}
        self.cosigned = []  # (log index, checkpoint n, response body)
        self.acked = [0] * len(logs)  # the largest size a 200 answered, per log
        self.errors = 0
        self.unexpected = []
        self.resume = threading.Event()
        self.resume.set()
        self.done = threading.Event()
        self.forks = {}  # status -> count

    def submitter(self, jobs):
        """Drive the given logs to their last checkpoint, one request per log in turn."""
        client = Client("127.0.0.1", self.w.port)
        state = {li: [0, 0] for li in jobs}  # log -> [old size, next checkpoint index]
        while state:
            for li in list(state):
                log, (old, n) = self.logs[li], state[li]
                body = log.body(old, n)
                while True:
                    self.resume.wait()
                    t0 = time.perf_counter()
                    try:
                        status, _, resp = client.add_checkpoint(body)
                        break
                    except OSError:
                        with self.lock:
                            self.errors += 1
                        time.sleep(0.05)  # the witness is down (fault run): wait, then retry
                took = time.perf_counter() - t0
                with self.lock:
                    self.latencies.append(took)
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 200:
                        self.cosigned.append((li, n, resp))
                        self.acked[li] = max(self.acked[li], log.sizes[n])
                if status == 200:
                    old, n = log.sizes[n], n + 1
                elif status == 409 and int(resp) in log.index:
                    # Someone else (a racing submitter, or our own request before a kill)
                    # moved the witness: carry on from its size.
                    old = int(resp)
                    n = log.index[old] + 1
                else:
                    with self.lock:
                        self.unexpected.append((log.origin, old, log.sizes[n], status, resp[:200]))
                    n = len(log.sizes)
                if n >= len(log.sizes):
                    del state[li]
                else:
                    state[li] = [old, n]

    def forger(self):
        """Submit forks signed by the log key, consistent with nothing the witness cosigned:
        the same size as the witness's latest with another root (422, or 409 if the log moved
        meanwhile), or growing from another root at that size (422 / 409). Any 200 is a split
        view."""
        rng = random.Random(SEED * 17 + 3)
        client = Client("127.0.0.1", self.w.port)
        sent = 0
        while sent < FORKS and not self.done.is_set():
            self.resume.wait()
            li = rng.randrange(len(self.logs))
            log = self.logs[li]
            try:
                stored = self.w.stored(log)
            except OSError:
                time.sleep(0.05)
                continue
            if not stored or stored[0] < 2:
                time.sleep(0.002)
                continue
            size = stored[0]
            fork = Tree()
            fork.leaves = log.tree.leaves[: size - 1] + [leaf_hash(b"forged %d" % sent)]
            grow = rng.random() < 0.5
            if grow:
                fork.leaves += log.tree.leaves[size : size + 3]
            new = len(fork.leaves) if grow else size
            note = signed_note(checkpoint_text(log.origin, new, fork.root(new)), log.key)
            try:
                status, _, resp = client.add_checkpoint(add_checkpoint_body(size, fork.consistency(size, new), note))
            except OSError:
                time.sleep(0.05)
                continue
            sent += 1
            with self.lock:
                self.forks[status] = self.forks.get(status, 0) + 1
                if status == 200:
                    self.unexpected.append((log.origin, "FORK COSIGNED", size, new))

    def go(self, fault: bool):
        threads = []
        for t in range(CLIENTS):
            jobs = [li for li in range(len(self.logs)) if li % CLIENTS == t]
            # Contended logs also get a second submitter in another thread.
            jobs += [li for li in range(len(self.logs)) if (li * 7919) % 100 < CONTENDED * 100 and (li + 1) % CLIENTS == t]
            threads.append(threading.Thread(target=self.submitter, args=(jobs,)))
        killer = None
        self.kill_report = None
        if fault:
            killer = threading.Thread(target=self.kill_and_restart)
        forger = threading.Thread(target=self.forger)
        start = time.perf_counter()
        for t in threads + [forger]:
            t.start()
        if killer:
            killer.start()
        for t in threads:
            t.join()
        self.wall = time.perf_counter() - start
        self.done.set()
        forger.join()
        if killer:
            killer.join()

    def kill_and_restart(self):
        rng = random.Random(SEED * 31 + 7)
        total = sum(len(l.sizes) for l in self.logs)
        target = rng.uniform(0.2, 0.7) * total  # kill after this many responses
        while sum(self.statuses.values()) < target:
            time.sleep(0.005)
        with self.lock:
            acked_before = list(self.acked)
            answered = sum(self.statuses.values())
        self.w.kill9()
        killed_at = time.perf_counter()
        self.resume.clear()  # hold new requests until the state has been checked
        self.w.start()
        restarted = time.perf_counter() - killed_at
        lost = []
        for li, log in enumerate(self.logs):
            s = self.w.stored(log)
            size = s[0] if s else 0
            if size < acked_before[li] or (s and not s[1]):
                lost.append((log.origin, acked_before[li], s))
        self.resume.set()
        self.kill_report = dict(answered=answered, restart_s=restarted, lost=lost, acked_logs=sum(1 for a in acked_before if a))

    def verify(self):
        """(a) and (b); returns a list of failures."""
        failures = [f"unexpected answer {u}" for u in self.unexpected]
        for li, n, resp in self.cosigned:
            log = self.logs[li]
            try:
                # The witness signed the clients' own tree hash at this size: no fork possible.
                verify_cosignature(self.w.vkey, log.texts[n], resp.decode())
            except Exception as e:
                failures.append(f"{log.origin} size {log.sizes[n]}: cosignature: {e}")
        for li, log in enumerate(self.logs):
            s = self.w.stored(log)
            if s is None or s[0] < self.acked[li]:
                failures.append(f"{log.origin}: stored {s}, acknowledged {self.acked[li]}: acknowledged state lost")
            elif not s[1]:
                failures.append(f"{log.origin}: stored root is not our tree's at {s[0]}")
            elif s[0] != log.sizes[-1]:
                failures.append(f"{log.origin}: stopped at {s[0]}, not {log.sizes[-1]}")
        if self.kill_report and self.kill_report["lost"]:
            failures += [f"lost at restart: {x}" for x in self.kill_report["lost"]]
        return failures

    def report(self):
        lat = sorted(self.latencies)
        n = len(lat)
        p = lambda q: lat[min(n - 1, int(q * n))] * 1000
        print(f"   requests {n}  ({', '.join(f'{k}: {v}' for k, v in sorted(self.statuses.items()))}; connection errors retried: {self.errors})")
        print(f"   wall {self.wall:.2f} s  throughput {n / self.wall:.0f} req/s  latency p50 {p(0.5):.1f} ms  p99 {p(0.99):.1f} ms  max {lat[-1] * 1000:.1f} ms  mean {statistics.mean(lat) * 1000:.1f} ms")
        print(f"   cosignatures received {len(self.cosigned)}; forks submitted {sum(self.forks.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(self.forks.items()))})")
        unacked = sum(len(l.sizes) for l in self.logs) - len(self.cosigned)
        if unacked:
            print(f"   {unacked} checkpoint(s) were committed but their 200 was lost to the kill; the clients learned them from a 409")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    binary = build_binary()
    print("== machine")
    print(f"cpus: {os.cpu_count()}  load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  binary: {binary}")
    rng = random.Random(SEED)
    t0 = time.perf_counter()
    logs = [BenchLog(i, rng) for i in range(LOGS)]
    contended = sum(1 for li in range(LOGS) if (li * 7919) % 100 < CONTENDED * 100)
    print(f"setup: {LOGS} logs x {CHECKPOINTS} checkpoints ({sum(len(l.tree) for l in logs)} leaves), {CLIENTS} client threads, {contended} logs with 2 racing submitters; built in {time.perf_counter() - t0:.1f} s")
    failed = False
    for name, fault in (("load", False), ("fault (SIGKILL + restart mid-run)", True)):
        with tempfile.TemporaryDirectory(prefix="witness-bench-") as tmp:
            w = Witness(binary, Path(tmp), logs, free_port())
            w.start()
            run = Run(name, w, logs)
            try:
                run.go(fault)
                failures = run.verify()
            finally:
                w.stop()
            print(f"== {name}")
            run.report()
            if run.kill_report:
                k = run.kill_report
                print(f"   killed after {k['answered']} answers; restarted in {k['restart_s'] * 1000:.0f} ms; {k['acked_logs']} logs had acknowledged state, none lost: {not k['lost']}")
            print(f"   (a) acknowledged state kept, (b) no inconsistent cosignature: {'OK' if not failures else 'FAILED'}")
            for f in failures[:20]:
                print("   FAIL:", f)
            failed |= bool(failures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
