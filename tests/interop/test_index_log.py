"""`wheelsig index-log` (init, follow, cosign) against a real index on loopback (pypiserver)
and real witnesses (`wheelsig witness serve`), and `verify --index-log [--min-age]` against
the log served by a loopback HTTP server: an exact file is logged and witnessed, a file swapped
on a mirror is a mismatch, a later change on the index itself is appended and flagged, a
follower killed with SIGKILL mid-follow resumes with nothing lost or duplicated, and a lying
lookup file or tile can hide an entry but never forge one."""
import base64
import hashlib
import http.server
import json
import os
import signal
import subprocess
import threading
import time
from functools import partial

import pytest

from conftest import build_wheel
from test_index import free_port, stop, tool, wait_for_port
from test_objstore import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, s3, s3_get  # noqa: F401 (fixture)
from test_site_log import Witnesses


def serve(directory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start_pypiserver(packages, log):
    port = free_port()
    out = log.open("w")
    proc = subprocess.Popen([tool("pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1", "--hash-algo", "sha256", "--disable-fallback", "--backend", "simple-dir", "-a", ".", "-P", ".", str(packages)], stdout=out, stderr=subprocess.STDOUT)
    wait_for_port(port, proc, log)
    return proc, f"http://127.0.0.1:{port}/simple/"


def bundle_entries(data):
    out = []
    while data:
        n = int.from_bytes(data[:2], "big")
        out.append(data[2 : 2 + n])
        data = data[2 + n :]
    return out


def all_entries(logdir):
    size = int((logdir / "checkpoint").read_text().split("\n")[1])
    entries = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        name = f"{n:03d}" + (f".p/{width}" if width < 256 else "")
        entries += bundle_entries((logdir / "tile" / "entries" / name).read_bytes())
    assert len(entries) == size
    return entries


@pytest.fixture
def world(tmp_path, wheelsig, witness_cli):
    packages = tmp_path / "packages"
    packages.mkdir()
    for version in ("1.0", "2.0"):
        d = tmp_path / f"w{version}"
        d.mkdir()
        whl = build_wheel(d, version=version)
        (packages / whl.name).write_bytes(whl.read_bytes())
    d = tmp_path / "other"
    d.mkdir()
    o = build_wheel(d, name="other_proj", version="3.0")
    (packages / o.name).write_bytes(o.read_bytes())
    proc, index = start_pypiserver(packages, tmp_path / "pypiserver.log")
    env = dict(wheelsig.env, XDG_CONFIG_HOME=str(tmp_path / "cfg"), WHEELSIG_STATE_DIR=str(tmp_path / "state"))
    wheelsig.env = env
    logdir = tmp_path / "log"
    p = wheelsig.run("index-log", "init", logdir, "--origin", "example.test/pypi-log")
    assert p.returncode == 0, p.stderr
    vkey = p.stdout.strip()
    (tmp_path / "projects.txt").write_text("# followed\ndemo\nOther-Proj\nmissing-project\n")
    server, url = serve(logdir)
    witnesses = Witnesses(wheelsig, tmp_path)
    try:
        yield {"tmp": tmp_path, "packages": packages, "index": index, "log": logdir, "vkey": vkey, "url": url, "projects": tmp_path / "projects.txt", "witnesses": witnesses}
    finally:
        witnesses.stop()
        server.shutdown()
        stop(proc)


def follow(wheelsig, w, *extra):
    return wheelsig.run("index-log", "follow", w["log"], "--index", w["index"], "--projects", w["projects"], *extra)


def verify(wheelsig, w, whl, *extra):
    p = wheelsig.run("verify", "--json", "--index-log", w["url"], *extra, whl)
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return p.returncode, json.loads(p.stdout)["wheels"][0]


def test_follow_logs_each_file_once_and_verify_proves_it_with_witnesses(world, wheelsig):
    w = world
    p = follow(wheelsig, w)
    assert p.returncode == 0, p.stderr
    assert "3 new entries" in p.stderr, p.stderr
    entries = all_entries(w["log"])
    files = sorted(e.split(b"\n")[3].decode() for e in entries)
    assert files == ["file demo-1.0-py3-none-any.whl", "file demo-2.0-py3-none-any.whl", "file other_proj-3.0-py3-none-any.whl"]
    for e in entries:
        lines = e.decode().split("\n")
        assert lines[0] == "wheelsig-index/v1" and lines[1] == f"index {w['index']}"
        sha = lines[4].split(" ")[1]
        name = lines[3].split(" ")[1]
        assert sha == hashlib.sha256((w["packages"] / name).read_bytes()).hexdigest()
    # Again: nothing new.
    p = follow(wheelsig, w)
    assert p.returncode == 0 and "0 new entries" in p.stderr, p.stderr
    assert len(all_entries(w["log"])) == 3
    # Two witnesses cosign; a policy requiring both.
    ws = [w["witnesses"].start(n, w["vkey"]) for n in ("wa.test/w", "wb.test/w")]
    p = wheelsig.run("index-log", "cosign", w["log"], *[a for vk, url in ws for a in ("--witness", f"{vk}={url}")])
    assert p.returncode == 0, p.stderr
    assert (w["log"] / "checkpoints" / "index").read_text() == "3\n"
    policy = w["tmp"] / "policy.txt"
    policy.write_text(f"log {w['vkey']}\nwitness A {ws[0][0]}\nwitness B {ws[1][0]}\ngroup both all A B\nquorum both\n")
    demo = w["packages"] / "demo-1.0-py3-none-any.whl"
    code, r = verify(wheelsig, w, demo, "--witness-policy", policy)
    assert code == 0 and r["index_log"]["status"] == "logged", r
    assert r["index_log"]["quorum"] is True and r["index_log"]["witnessed"] and abs(r["index_log"]["witnessed"] - time.time()) < 300
    assert {c["name"] for c in r["index_log"]["cosignatures"]} == {"wa.test/w", "wb.test/w"}
    # --min-age: the witnesses saw it just now.
    code, r = verify(wheelsig, w, demo, "--witness-policy", policy, "--min-age", "7d")
    assert code == 1 and r["verdict"] == "untrusted" and any(p["code"] == "index-log-too-new" for p in r["problems"]), r
    code, r = verify(wheelsig, w, demo, "--witness-policy", policy, "--min-age", "0s")
    assert code == 0, r["problems"]
    text = wheelsig.run("verify", "--index-log", w["url"], "--witness-policy", policy, demo).stdout
    assert "index log: this exact file has been in example.test/pypi-log (witnessed since" in text and "cosigned by wa.test/w and wb.test/w" in text, text
    # Not in the log: said; with --min-age, a failure (age unknown).
    d = w["tmp"] / "n"
    d.mkdir()
    nowhere = build_wheel(d, name="nowhere")
    code, r = verify(wheelsig, w, nowhere, "--witness-policy", policy)
    assert code == 0 and r["index_log"]["status"] == "absent"
    code, r = verify(wheelsig, w, nowhere, "--witness-policy", policy, "--min-age", "1d")
    assert code == 1 and any(p["code"] == "index-log-absent" for p in r["problems"])


def test_a_file_swapped_on_a_mirror_is_a_mismatch_and_a_change_on_the_index_is_flagged(world, wheelsig):
    w = world
    assert follow(wheelsig, w).returncode == 0
    # What a targeted mirror hands one user: another wheel with the same name.
    d = w["tmp"] / "swapped"
    d.mkdir()
    swapped = build_wheel(d, version="1.0", files={"demo/__init__.py": b"print('only for you')\n"})
    code, r = verify(wheelsig, w, swapped)
    assert (code, r["verdict"], r["index_log"]["status"]) == (1, "untrusted", "different"), r
    assert any(p["code"] == "index-log-mismatch" and "you were not served what everyone else was" in p["message"] for p in r["problems"])
    assert "INDEX LOG MISMATCH" in wheelsig.run("verify", "--index-log", w["url"], swapped).stdout
    # The index itself now serves the swapped file: the follower appends it and says so.
    (w["packages"] / swapped.name).write_bytes(swapped.read_bytes())
    p = follow(wheelsig, w)
    assert p.returncode == 1 and "CHANGED: demo demo-1.0-py3-none-any.whl now has sha256" in p.stderr, p.stderr
    assert len(all_entries(w["log"])) == 4
    # The swapped file is logged now, but after the original: still flagged.
    code, r = verify(wheelsig, w, swapped)
    assert code == 1 and any(p["code"] == "index-log-mismatch" and "first logged" in p["message"] for p in r["problems"]), r


def test_sigkill_mid_follow_loses_and_duplicates_nothing(world, wheelsig):
    w = world
    for i in range(40):
        d = w["tmp"] / f"many{i}"
        d.mkdir()
        for v in ("1.0", "1.1"):
            whl = build_wheel(d, name=f"proj{i}", version=v)
            (w["packages"] / whl.name).write_bytes(whl.read_bytes())
    w["projects"].write_text("\n".join(f"proj{i}" for i in range(40)) + "\ndemo\n")
    expected = 82
    killed = 0
    for attempt in range(6):
        proc = subprocess.Popen([str(wheelsig.binary), "index-log", "follow", str(w["log"]), "--index", w["index"], "--projects", str(w["projects"]), "--checkpoint-every", "1", "--jobs", "2"], env=wheelsig.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.25 + 0.1 * attempt)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        size = int((w["log"] / "checkpoint").read_text().split("\n")[1])
        entries = all_entries(w["log"])  # the published log is always whole
        assert len(set(entries)) == len(entries) == size
        if size == expected:
            break
    assert killed >= 1, "the follower was never killed mid-follow (it ran too fast)"
    p = follow(wheelsig, w)
    assert p.returncode == 0, p.stderr
    entries = all_entries(w["log"])
    names = [e.split(b"\n")[3] for e in entries]
    assert len(entries) == expected and len(set(names)) == expected, (len(entries), len(set(names)))
    # The restarted log still verifies end to end.
    code, r = verify(wheelsig, w, w["packages"] / "proj7-1.1-py3-none-any.whl")
    assert code == 0 and r["index_log"]["status"] == "logged", r


def test_a_lying_lookup_or_tile_can_hide_an_entry_but_not_forge_one(world, wheelsig):
    w = world
    assert follow(wheelsig, w).returncode == 0
    demo = w["packages"] / "demo-1.0-py3-none-any.whl"
    lookup = w["log"] / "lookup" / "demo"
    honest = lookup.read_text()
    # Hidden: the lookup leaves the entry out (a monitor comparing lookups with the log finds it).
    lookup.write_text("".join(l + "\n" for l in honest.splitlines() if "demo-1.0" not in l))
    code, r = verify(wheelsig, w, demo)
    assert r["index_log"]["status"] == "absent"
    # Forged: the lookup points the name at another entry: not accepted.
    other_index = next(l.split(" ")[0] for l in honest.splitlines() if "demo-2.0" in l)
    lookup.write_text(f"{other_index} demo-1.0-py3-none-any.whl {'0' * 64}\n")
    code, r = verify(wheelsig, w, demo)
    assert code == 1 and any(p["code"] == "log-malformed" for p in r["problems"]) and r["index_log"]["status"] == "absent", r
    lookup.write_text(honest)
    # A changed hash tile (every other leaf's hash, which the proof uses): the proof fails,
    # clearly, no crash.
    tile = w["log"] / "tile" / "0" / "000.p/3"
    data = bytearray(tile.read_bytes())
    for i in range(3):
        data[32 * i] ^= 1
    tile.write_bytes(bytes(data))
    code, r = verify(wheelsig, w, demo)
    assert code == 1 and any(p["code"] == "log-not-included" for p in r["problems"]), r


def test_push_mirrors_the_index_log_to_s3_compatible_storage(world, wheelsig, s3):
    """`wheelsig index-log push` (the CLI) to a real S3-compatible server (SeaweedFS on
    loopback): every published file byte for byte, hidden state kept local, nothing re-sent."""
    w = world
    assert follow(wheelsig, w).returncode == 0
    env = {k: v for k, v in wheelsig.env.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    push = lambda: subprocess.run([str(wheelsig.binary), "index-log", "push", w["log"], "--to", f"s3://{BUCKET}/index-log", "--endpoint", s3.endpoint], capture_output=True, text=True, env=env, timeout=180)
    p = push()
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stdout)
    assert stats["uploaded"][-1] == "checkpoint"
    local = {f.relative_to(w["log"]).as_posix(): f.read_bytes() for f in w["log"].rglob("*") if f.is_file()}
    published = {k: v for k, v in local.items() if not k.split("/")[-1].startswith(".")}
    assert ".index-log.json" in local and "lookup/demo" in published
    for key, data in published.items():
        status, _, body = s3_get(s3.endpoint, f"index-log/{key}")
        assert (status, body) == (200, data), key
    again = json.loads(push().stdout)
    assert again["uploaded"] == [], again
    # Not a log: refused before anything is sent.
    p = subprocess.run([str(wheelsig.binary), "index-log", "push", w["tmp"], "--to", f"s3://{BUCKET}/x", "--endpoint", s3.endpoint], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2, p.stderr
