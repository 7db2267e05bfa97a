"""Run a command several times; print best/median wall seconds, peak RSS (ru_maxrss) and the least CPU time (user + system)."""
import json
import os
import statistics
import subprocess
import sys
import time


def run_once(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode not in (0,):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # KiB -> MiB


def main():
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    label, cmd = sys.argv[1], sys.argv[2:]
    results = [run_once(cmd) for _ in range(runs)]
    walls = [w for w, _, _ in results]
    print(json.dumps({"tool": label, "best": min(walls), "median": statistics.median(walls), "rss_mib": max(r for _, r, _ in results), "cpu_s": min(c for _, _, c in results)}))


if __name__ == "__main__":
    main()
