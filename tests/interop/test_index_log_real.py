"""Issue 11 with real wheels: pypiserver on loopback serves wheels downloaded from PyPI (six,
idna, requests, packaging, urllib3: the `real_wheels` fixture), a publisher's key site (made
with `wheelsig site init/add-key/publish/build`, served on loopback) signs them, `wheelsig
index-log init/follow` logs what the index serves and two real witnesses (`wheelsig witness
serve`) cosign it; the log is served on loopback. Every real wheel, downloaded back from the
index, is logged and witnessed, and the audit passes. Then one real wheel's file is swapped on
the index (same name; the same wheel re-zipped with one byte of one member changed and RECORD
rewritten to match, so it is an intact, unsigned wheel that only its sha256 gives away): the
downloaded file is `index-log-mismatch` for `verify --index-log`, a re-follow appends it and
says `CHANGED:` (exit 1) with the first entry kept, and `wheelsig audit` fails naming the
sha256 mismatch for that file alone."""
import hashlib
import http.server
import json
import re
import shutil
import threading
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path

import pytest

from conftest import REPO, real_wheel
from swap_wheel import swap_one_byte
from test_index_log import all_entries, start_pypiserver
from test_index import stop
from test_site_log import Witnesses

WIDGET = REPO / "www"
PROJECTS = ["six", "idna", "requests", "packaging", "urllib3"]
SWAPPED = "requests"
ORIGIN = "example.test/real-pypi-log"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serve(directory: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class World:
    def __init__(self, ws, tmp: Path, real_wheels):
        if not (WIDGET / "pkg" / "wheelsig_bg.wasm").exists():
            pytest.fail("www/pkg missing: the wasm build runs before these tests in npm test")
        self.ws, self.tmp = ws, tmp
        ws.env = dict(ws.env, XDG_CONFIG_HOME=str(tmp / "cfg"), WHEELSIG_STATE_DIR=str(tmp / "state"))
        self.real = {p: real_wheel(real_wheels, p) for p in PROJECTS}
        self.packages = tmp / "packages"
        self.packages.mkdir()
        for whl in self.real.values():
            shutil.copy(whl, self.packages / whl.name)
        self.servers = []
        self.downloads = 0
        self.proc, self.index = start_pypiserver(self.packages, tmp / "pypiserver.log")
        # The key site: every real wheel signed by the publisher's key.
        self.out = tmp / "site"
        self.out.mkdir()
        server, self.site_url = serve(self.out)
        self.servers.append(server)
        self.key_url = self.site_url + "keys.json"
        self.src = tmp / "src"
        self.ok("site", "init", self.src, "--publisher", "Real Publisher", "--site-url", self.site_url, "--projects", ",".join(PROJECTS), "--widget", WIDGET)
        self.key = tmp / "publisher.jwk"
        ws.keygen(self.key)
        self.ok("site", "add-key", self.src, "--key", self.key)
        self.ok("site", "publish", self.src, "--key", self.key, *self.real.values())
        self.ok("site", "build", self.src, "--out", self.out)
        # The index log, served as is.
        self.log = tmp / "log"
        self.vkey = self.ok("index-log", "init", self.log, "--origin", ORIGIN).stdout.strip()
        server, self.log_url = serve(self.log)
        self.servers.append(server)
        self.projects = tmp / "projects.txt"
        self.projects.write_text("# the publisher's projects\n" + "\n".join(PROJECTS) + "\n")
        self.witnesses = Witnesses(ws, tmp)
        self.ws_urls = [self.witnesses.start(n, self.vkey) for n in ("witness-a.test/w", "witness-b.test/w")]
        self.policy = tmp / "policy.txt"
        self.policy.write_text(f"log {self.vkey}\nwitness A {self.ws_urls[0][0]}\nwitness B {self.ws_urls[1][0]}\ngroup both all A B\nquorum both\n")

    def close(self):
        self.witnesses.stop()
        for s in self.servers:
            s.shutdown()
        stop(self.proc)

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {' '.join(map(str, args))}: {p.stderr}"
        return p

    def follow(self):
        return self.ws.run("index-log", "follow", self.log, "--index", self.index, "--projects", self.projects)

    def cosign(self):
        return self.ok("index-log", "cosign", self.log, *[a for vk, url in self.ws_urls for a in ("--witness", f"{vk}={url}")])

    def download(self, project: str) -> Path:
        """The project's one file as the index serves it now (href from its PEP 503 page)."""
        page_url = f"{self.index}{project}/"
        with urllib.request.urlopen(page_url, timeout=30) as r:
            hrefs = re.findall(r'href="([^"]+)"', r.read().decode())
        assert len(hrefs) == 1, hrefs
        url = urllib.parse.urljoin(page_url, hrefs[0])
        name = urllib.parse.urlsplit(url).path.rsplit("/", 1)[1]
        fragment = urllib.parse.urlsplit(url).fragment
        with urllib.request.urlopen(url, timeout=30) as r:
            data = r.read()
        assert fragment == f"sha256={sha256(data)}", "pypiserver lists the sha256 of what it serves"
        self.downloads += 1
        d = self.tmp / "downloads" / str(self.downloads)
        d.mkdir(parents=True)
        (d / name).write_bytes(data)
        return d / name

    def verify(self, whl: Path, *extra):
        p = self.ws.run("verify", "--json", "--index-log", self.log_url, "--witness-policy", self.policy, *extra, whl)
        assert p.returncode in (0, 1), p.stdout + p.stderr
        return p.returncode, json.loads(p.stdout)["wheels"][0]

    def audit(self):
        p = self.ws.run("audit", "--index", self.index, "--key-url", self.key_url, "--json")
        assert p.returncode in (0, 1), p.stdout + p.stderr
        return p.returncode, json.loads(p.stdout)


@pytest.fixture
def world(wheelsig, witness_cli, tmp_path, real_wheels):
    w = World(wheelsig, tmp_path, real_wheels)
    yield w
    w.close()


def lookup(w: World, project: str):
    return [line.split(" ") for line in (w.log / "lookup" / project).read_text().splitlines()]


def test_real_wheels_from_the_index_are_logged_witnessed_and_match_the_key_site(world):
    w = world
    p = w.follow()
    assert p.returncode == 0, p.stderr
    assert f"{len(PROJECTS)} new entries" in p.stderr, p.stderr
    entries = [e.decode().split("\n") for e in all_entries(w.log)]
    assert sorted(e[3] for e in entries) == sorted(f"file {whl.name}" for whl in w.real.values())
    for e in entries:
        name = e[3].split(" ", 1)[1]
        assert e[:3] == ["wheelsig-index/v1", f"index {w.index}", f"project {name.split('-')[0].replace('_', '-')}"], e
        assert e[4] == f"sha256 {sha256((w.packages / name).read_bytes())}", name
    w.cosign()
    for project, whl in w.real.items():
        got = w.download(project)
        assert got.read_bytes() == whl.read_bytes(), "pypiserver serves the PyPI bytes"
        code, r = w.verify(got)
        il = r["index_log"]
        assert (code, r["verdict"], il["status"]) == (0, "unsigned", "logged"), (project, r["problems"])
        assert [e["sha256"] for e in il["entries"]] == [sha256(whl.read_bytes())]
        assert il["quorum"] is True and il["witnessed"], il
        assert {c["name"] for c in il["cosignatures"]} == {"witness-a.test/w", "witness-b.test/w"}
        # The publisher's key and the log together: signed here and the file everyone got.
        sig = w.src / "releases" / project / f"{whl.name}.jws"
        code, r = w.verify(got, "--key-url", w.key_url, "--sig", sig)
        assert (code, r["verdict"], r["index_log"]["status"]) == (0, "trusted", "logged"), (project, r["problems"])
    code, r = w.audit()
    assert (code, r["passed"], r["findings"]) == (0, True, []), r
    assert (r["summary"]["signed"], r["summary"]["index_wheels"], r["summary"]["matching"]) == (5, 5, 5)


def test_a_real_wheel_swapped_on_the_index_is_caught_by_verify_follow_and_audit(world):
    w = world
    assert w.follow().returncode == 0
    w.cosign()
    before = all_entries(w.log)
    real = w.real[SWAPPED]
    signed = sha256(real.read_bytes())
    [[first_index, first_name, first_sha]] = lookup(w, SWAPPED)
    assert (first_name, first_sha) == (real.name, signed)
    # The index now serves the swapped file under the real wheel's name.
    swapped = w.tmp / "swapped" / real.name
    swapped.parent.mkdir()
    member = swap_one_byte(real, swapped)
    assert member == "requests/__init__.py"
    (w.packages / real.name).write_bytes(swapped.read_bytes())
    got = w.download(SWAPPED)
    assert got.read_bytes() == swapped.read_bytes() and sha256(got.read_bytes()) != signed
    # On its own the swapped file is an intact wheel: only the log (or a signature) catches it.
    p = w.ws.run("verify", "--json", got)
    assert (p.returncode, json.loads(p.stdout)["wheels"][0]["verdict"]) == (0, "unsigned"), p.stdout
    code, r = w.verify(got)
    assert (code, r["verdict"], r["index_log"]["status"]) == (1, "untrusted", "different"), r
    assert [p["code"] for p in r["problems"]] == ["index-log-mismatch"], r["problems"]
    assert f"{real.name} is logged in {ORIGIN} with sha256 {signed}, not this file's {sha256(got.read_bytes())}: you were not served what everyone else was" == r["problems"][0]["message"]
    assert [e["sha256"] for e in r["index_log"]["entries"]] == [signed]
    text = w.ws.run("verify", "--index-log", w.log_url, "--witness-policy", w.policy, got)
    assert text.returncode == 1 and "INDEX LOG MISMATCH" in text.stdout, text.stdout
    # The publisher's signature refuses it too (it covers the real RECORD).
    sig = w.src / "releases" / SWAPPED / f"{real.name}.jws"
    code, r = w.verify(got, "--key-url", w.key_url, "--sig", sig)
    assert (code, r["verdict"]) == (1, "invalid"), r
    assert [p["code"] for p in r["problems"]] == ["sig-payload-mismatch", "index-log-mismatch"], r["problems"]
    # The other real wheels are untouched: still logged, exit 0.
    for project in PROJECTS:
        if project != SWAPPED:
            code, r = w.verify(w.download(project))
            assert (code, r["index_log"]["status"]) == (0, "logged"), (project, r["problems"])
    # The follower sees the change: appended, flagged, the first entry kept.
    p = w.follow()
    assert p.returncode == 1, p.stderr
    assert f"CHANGED: {SWAPPED} {real.name} now has sha256 {sha256(swapped.read_bytes())}" in p.stderr, p.stderr
    after = all_entries(w.log)
    assert len(after) == len(before) + 1 and after[: len(before)] == before, "appended, nothing replaced"
    assert f"sha256 {sha256(swapped.read_bytes())}" in after[-1].decode() and f"file {real.name}" in after[-1].decode()
    assert lookup(w, SWAPPED) == [[first_index, real.name, signed], [str(len(before)), real.name, sha256(swapped.read_bytes())]]
    assert w.follow().returncode == 0, "nothing new the second time"
    w.cosign()
    # Logged now, but after the original: still a mismatch; the original file is still logged.
    code, r = w.verify(got)
    assert code == 1 and [p["code"] for p in r["problems"]] == ["index-log-mismatch"], r["problems"]
    assert "first logged" in r["problems"][0]["message"], r["problems"]
    assert [e["sha256"] for e in r["index_log"]["entries"]] == [signed, sha256(swapped.read_bytes())]
    code, r = w.verify(real)
    assert (code, r["index_log"]["status"]) == (0, "logged"), r["problems"]
    # The audit names the file and both digests; every other wheel agrees.
    code, r = w.audit()
    assert code == 1 and r["passed"] is False, r
    assert [(f["code"], f["filename"]) for f in r["findings"]] == [("digest-mismatch", real.name)]
    [f] = r["findings"]
    assert (f["severity"], f["project"], f["signed_sha256"], f["index_sha256"]) == ("fail", SWAPPED, signed, sha256(swapped.read_bytes()))
    assert r["summary"]["matching"] == len(PROJECTS) - 1 and r["summary"]["counts"] == {"digest-mismatch": 1}
    by = {p["project"]: p for p in r["projects"]}
    assert by[SWAPPED]["failures"] == 1 and all(by[p]["failures"] == 0 and by[p]["matching"] == 1 for p in PROJECTS if p != SWAPPED)
    human = w.ws.run("audit", "--index", w.index, "--key-url", w.key_url)
    assert human.returncode == 1 and f"digest-mismatch: the index serves {real.name} with sha256 {sha256(swapped.read_bytes())}" in human.stdout, human.stdout
    # Restoring the real file makes the audit pass again (and the log keeps both entries).
    shutil.copy(real, w.packages / real.name)
    code, r = w.audit()
    assert (code, r["findings"]) == (0, []), r
    assert w.follow().returncode == 0 and len(all_entries(w.log)) == len(before) + 1
