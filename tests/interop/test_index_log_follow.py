"""`wheelsig index-log follow --all` and polite re-follows: every project an index's root page
lists is followed (pypiserver's PEP 503 root), and a follow that has read a page before asks
for it again with its ETag (304: nothing re-read) or, where the root page gives PyPI's
`_last-serial`, not at all; `--full` reads everything again. The ETag/serial case runs
against a static mirror laid out like bandersnatch's (index.html and index.v1_json per
project) served by sirv, which sends ETags and answers If-None-Match with 304 as static hosts
and CDNs do (tests/interop/static_index.mjs); its request log shows what was asked."""
import hashlib
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import build_wheel
from test_index import stop
from test_index_log import all_entries, world  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]


def entry_field(entry: bytes, name: str) -> str:
    """A field of a `wheelsig-index/v1` entry (`<name> <value>` lines)."""
    return next(line.split(" ", 1)[1] for line in entry.decode().splitlines() if line.startswith(name + " "))


def test_follow_all_logs_every_project_the_root_page_lists(world, wheelsig):
    w = world
    p = wheelsig.run("index-log", "follow", w["log"], "--index", w["index"], "--all")
    assert p.returncode == 0, p.stderr
    assert "3 new entries" in p.stderr, p.stderr
    files = sorted(entry_field(e, "file") for e in all_entries(w["log"]))
    assert files == ["demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl", "other_proj-3.0-py3-none-any.whl"]
    # --projects and --all are one or the other, and one is needed.
    both = wheelsig.run("index-log", "follow", w["log"], "--index", w["index"], "--all", "--projects", w["projects"])
    assert both.returncode == 2 and "cannot be used with" in both.stderr, both.stderr
    neither = wheelsig.run("index-log", "follow", w["log"], "--index", w["index"])
    assert neither.returncode == 2 and "--projects" in neither.stderr, neither.stderr


class Mirror:
    """A static Simple API tree: root and per-project index.html + index.v1_json."""

    def __init__(self, root: Path):
        self.root = root
        self.projects: dict[str, tuple[int, list[Path]]] = {}
        (root / "packages").mkdir(parents=True)

    def add(self, project: str, serial: int, wheels: list[Path]):
        for whl in wheels:
            (self.root / "packages" / whl.name).write_bytes(whl.read_bytes())
        self.projects[project] = (serial, wheels)
        self.write()

    def write(self):
        simple = self.root / "simple"
        simple.mkdir(exist_ok=True)
        for project, (serial, wheels) in self.projects.items():
            d = simple / project
            d.mkdir(exist_ok=True)
            files = [(w.name, hashlib.sha256((self.root / "packages" / w.name).read_bytes()).hexdigest()) for w in wheels]
            html = "<!DOCTYPE html><html><body>" + "".join(f'<a href="../../packages/{n}#sha256={h}">{n}</a><br/>' for n, h in files) + "</body></html>"
            page = {"meta": {"api-version": "1.1", "_last-serial": serial}, "name": project, "files": [{"filename": n, "url": f"../../packages/{n}", "hashes": {"sha256": h}} for n, h in files]}
            self._put(d / "index.html", html)
            self._put(d / "index.v1_json", json.dumps(page))
        listing = {"meta": {"api-version": "1.1", "_last-serial": max(s for s, _ in self.projects.values())}, "projects": [{"name": p, "_last-serial": s} for p, (s, _) in self.projects.items()]}
        self._put(simple / "index.v1_json", json.dumps(listing))
        self._put(simple / "index.html", "<!DOCTYPE html><html><body>" + "".join(f'<a href="{p}/">{p}</a>' for p in self.projects) + "</body></html>")

    @staticmethod
    def _put(path: Path, text: str):
        # Only rewrite what changed, so unchanged pages keep their ETag (size and mtime).
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


@pytest.fixture
def mirror(tmp_path, wheelsig):
    m = Mirror(tmp_path / "mirror")
    for name in ("alpha", "beta", "gamma"):
        d = tmp_path / name
        d.mkdir()
        m.add(name, 10, [build_wheel(d, name=name, version="1.0")])
    out = (tmp_path / "mirror.log").open("w")
    proc = subprocess.Popen(["node", str(REPO / "tests/interop/static_index.mjs"), str(m.root)], stdout=subprocess.PIPE, stderr=out, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening "), line
    m.url = f"http://127.0.0.1:{int(line.split()[1])}/simple/"
    m.proc = proc
    m.requests = []

    def reader():
        for line in proc.stdout:
            status, _, path = line.strip().partition(" ")
            m.requests.append((status, path))

    threading.Thread(target=reader, daemon=True).start()

    def drain():
        # What the server has logged since the last drain (its log lines follow each answer).
        time.sleep(0.3)
        got, m.requests[:] = list(m.requests), []
        return got

    m.drain = drain
    env = dict(wheelsig.env, XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    wheelsig.env = env
    m.log = tmp_path / "log"
    p = wheelsig.run("index-log", "init", m.log, "--origin", "example.test/mirror-log")
    assert p.returncode == 0, p.stderr
    try:
        yield m
    finally:
        stop(proc)


def pages(requests):
    return sorted((status, path) for status, path in requests if path != "/simple/")


def test_a_refollow_asks_with_etags_and_reads_only_what_changed(mirror, wheelsig, tmp_path):
    m = mirror
    (tmp_path / "projects.txt").write_text("alpha\nbeta\ngamma\n")
    follow = lambda *extra: wheelsig.run("index-log", "follow", m.log, "--index", m.url, "--projects", tmp_path / "projects.txt", *extra)
    p = follow()
    assert p.returncode == 0 and "3 new entries" in p.stderr, p.stderr
    assert pages(m.drain()) == [("200", "/simple/alpha/"), ("200", "/simple/beta/"), ("200", "/simple/gamma/")]
    state = json.loads((m.log / ".index-log.json").read_text())
    assert set(state["pages"]) == {"alpha", "beta", "gamma"} and all(v["etag"].startswith('W/"') for v in state["pages"].values())
    # Nothing changed: every page is asked for with its ETag and answered 304.
    p = follow()
    assert p.returncode == 0 and "(3 unchanged since the last follow)" in p.stderr and "0 new entries" in p.stderr, p.stderr
    assert pages(m.drain()) == [("304", "/simple/alpha/"), ("304", "/simple/beta/"), ("304", "/simple/gamma/")]
    # beta gains a release: only its page is read again, and its new file is logged.
    time.sleep(0.01)
    d = tmp_path / "beta2"
    d.mkdir()
    m.add("beta", 11, m.projects["beta"][1] + [build_wheel(d, name="beta", version="2.0")])
    p = follow()
    assert p.returncode == 0 and "1 new entry" in p.stderr and "(2 unchanged" in p.stderr, p.stderr
    assert pages(m.drain()) == [("200", "/simple/beta/"), ("304", "/simple/alpha/"), ("304", "/simple/gamma/")]
    # --full ignores the ETags: every page is read in full again, and nothing is logged twice.
    p = follow("--full")
    assert p.returncode == 0 and "0 new entries" in p.stderr, p.stderr
    got = pages(m.drain())
    assert [s for s, _ in got] == ["200", "200", "200"], got
    assert len(all_entries(m.log)) == 4


def test_follow_all_skips_projects_whose_serial_it_has_read(mirror, wheelsig, tmp_path):
    m = mirror
    follow = lambda *extra: wheelsig.run("index-log", "follow", m.log, "--index", m.url, "--all", *extra)
    p = follow()
    assert p.returncode == 0 and "3 new entries" in p.stderr, p.stderr
    assert [path for _, path in pages(m.drain())] == ["/simple/alpha/", "/simple/beta/", "/simple/gamma/"]
    state = json.loads((m.log / ".index-log.json").read_text())
    assert {k: v["serial"] for k, v in state["pages"].items()} == {"alpha": 10, "beta": 10, "gamma": 10}
    # The root page says no serial moved: no project page is asked for.
    p = follow()
    assert p.returncode == 0 and "3 skipped by serial" in p.stderr, p.stderr
    assert pages(m.drain()) == []
    # A new project and a new serial for gamma: exactly those two pages are read.
    d = tmp_path / "delta"
    d.mkdir()
    m.add("delta", 12, [build_wheel(d, name="delta", version="1.0")])
    d = tmp_path / "gamma2"
    d.mkdir()
    m.add("gamma", 13, m.projects["gamma"][1] + [build_wheel(d, name="gamma", version="2.0")])
    p = follow()
    assert p.returncode == 0 and "2 new entries" in p.stderr and "2 skipped by serial" in p.stderr, p.stderr
    assert pages(m.drain()) == [("200", "/simple/delta/"), ("200", "/simple/gamma/")]
    files = sorted(entry_field(e, "file") for e in all_entries(m.log))
    assert files == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl", "delta-1.0-py3-none-any.whl", "gamma-1.0-py3-none-any.whl", "gamma-2.0-py3-none-any.whl"]


def test_a_hostile_root_page_is_refused_with_its_position(mirror, wheelsig):
    m = mirror
    (m.root / "simple" / "index.v1_json").write_text(json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": "alpha"}, {"name": "../../etc\u001b[31m"}]}))
    p = wheelsig.run("index-log", "follow", m.log, "--index", m.url, "--all")
    assert p.returncode == 2, p.stderr
    assert "--all: " in p.stderr and "projects[1]" in p.stderr and "is not a project name" in p.stderr, p.stderr
    assert "\x1b" not in p.stderr
    assert len(all_entries(m.log)) == 0
