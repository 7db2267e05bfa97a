"""The package index client against real indexes on loopback: the core's page parser
(crate/src/index.rs) and the CLI edge's fetching and checked downloads (crate/src/bin/wheelsig/cli/index.rs),
through crate/examples/index_probe.rs (built once with cargo).

- pypiserver 2.4 (`pypi-server run --hash-algo sha256`) serves PEP 503 HTML only: it answers
  our PEP 691 `Accept` with text/html. Files are listed with the sha256 hashlib computes, one
  download is checked and renamed into place, and a file whose bytes change on the server
  between the listing and the download fails with the digest error and leaves nothing behind.
- devpi-server 6.20 serves PEP 691 JSON (which our `Accept` prefers) and HTML: both forms of
  its page give the same files.
- A small http.server handler serves hand-written PEP 691 pages (PEP 700 fields, yanking,
  relative URLs) and hostile ones: wrong sizes, missing digests, duplicate names, bad URLs.
"""
import base64
import hashlib
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import build_wheel

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# crate/src/index.rs's ACCEPT.
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


def run(*args, timeout=120, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"server did not listen on {port} within {seconds} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} missing: run scripts/setup.sh (tests/requirements.txt installs it)", pytrace=False)
    return path


def fetch(url: str, accept: str):
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=30) as r:
        return r.headers.get("Content-Type"), r.read()


@pytest.fixture(scope="module")
def probe():
    """crate/examples/index_probe.rs, built (dev profile) with cargo."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    p = run("nice", cargo, "build", "--locked", "--quiet", "--example", "index_probe", "--message-format=json-render-diagnostics", cwd=REPO, timeout=1200)
    assert p.returncode == 0, f"cargo build --example index_probe failed:\n{p.stderr}"
    for line in p.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "index_probe" and msg.get("executable"):
            exe = Path(msg["executable"])

            def call(*args, **kw):
                return run(exe, *args, **kw)

            call.exe = exe
            return call
    pytest.fail(f"cargo reported no index_probe executable:\n{p.stdout[-2000:]}")


def listed(probe, index: str, project: str) -> list:
    p = probe("list", index, project)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


# ---- pypiserver: PEP 503 HTML ----


@pytest.fixture(scope="module")
def pypiserver(tmp_path_factory):
    packages = tmp_path_factory.mktemp("pypiserver-packages")
    build_wheel(packages, "demo", "1.0")
    build_wheel(packages, "demo", "1.1", files={"demo/__init__.py": b"VERSION = '1.1'\n"})
    build_wheel(packages, "other_proj", "2.0")
    (packages / "demo-1.0.tar.gz").write_bytes(b"not really a tarball, but listed like an sdist\n")
    port = free_port()
    log = tmp_path_factory.mktemp("pypiserver-log") / "log.txt"
    with log.open("w") as out:
        # simple-dir: no cache, so every listing hashes the files as they are now.
        proc = subprocess.Popen(
            [tool("pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1", "--hash-algo", "sha256", "--disable-fallback", "--backend", "simple-dir", "-a", ".", "-P", ".", str(packages)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}/simple/", packages
    finally:
        stop(proc)


def test_pypiserver_serves_html_only(pypiserver):
    index, _ = pypiserver
    content_type, body = fetch(index + "demo/", ACCEPT)
    assert content_type.startswith("text/html"), content_type
    assert b"#sha256=" in body


def test_pypiserver_lists_files_with_their_sha256(probe, pypiserver):
    index, packages = pypiserver
    files = listed(probe, index, "demo")
    expected = {p.name: sha256(p) for p in packages.iterdir() if p.name.startswith("demo-")}
    assert {f["filename"]: f["sha256"] for f in files} == expected
    port = index.split(":")[2].split("/")[0]
    for f in files:
        assert f["url"] == f"http://127.0.0.1:{port}/packages/{f['filename']}"
        assert (f["wheel"] is not None) == f["filename"].endswith(".whl")
        if f["wheel"]:
            assert f["wheel"]["project"] == "demo"
    # The project name is normalized (PEP 503) before the request.
    other = listed(probe, index, "Other.Proj")
    assert [f["filename"] for f in other] == ["other_proj-2.0-py3-none-any.whl"]
    assert other[0]["sha256"] == sha256(packages / "other_proj-2.0-py3-none-any.whl")
    p = probe("list", index, "no-such-project")
    assert p.returncode == 1 and "the index has no project no-such-project (not found)" in p.stderr, p.stderr
    p = probe("list", index, "../etc")
    assert p.returncode == 1 and "is not a project name" in p.stderr, p.stderr


def test_pypiserver_download_is_checked_and_renamed_into_place(probe, pypiserver, tmp_path):
    index, packages = pypiserver
    p = probe("download", index, "demo", "demo-1.1-py3-none-any.whl", tmp_path)
    assert p.returncode == 0, p.stderr
    target = tmp_path / "demo-1.1-py3-none-any.whl"
    assert p.stdout.strip() == str(target)
    assert target.read_bytes() == (packages / "demo-1.1-py3-none-any.whl").read_bytes()
    assert [x.name for x in tmp_path.iterdir()] == [target.name], "no temporary file left"
    assert target.stat().st_mode & 0o777 == 0o644
    # Again: the existing file is replaced, through a new file and a rename.
    p = probe("download", index, "demo", "demo-1.1-py3-none-any.whl", tmp_path)
    assert p.returncode == 0, p.stderr
    assert [x.name for x in tmp_path.iterdir()] == [target.name]
    p = probe("download", index, "demo", "demo-9.9-py3-none-any.whl", tmp_path)
    assert p.returncode == 1 and "lists no file" in p.stderr


def test_bytes_swapped_after_listing_fail_the_digest_check(probe, pypiserver, tmp_path):
    index, packages = pypiserver
    name = "demo-1.0-py3-none-any.whl"
    served = packages / name
    original = served.read_bytes()
    listed_sha = hashlib.sha256(original).hexdigest()
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([str(probe.exe), "download", "--wait", index, "demo", name, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == listed_sha
        # The server now has other bytes under the same name (same length, one byte changed).
        swapped = bytearray(original)
        swapped[len(swapped) // 2] ^= 0xFF
        served.write_bytes(bytes(swapped))
        stdout, stderr = proc.communicate("go\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        served.write_bytes(original)
    got = hashlib.sha256(bytes(swapped)).hexdigest()
    assert proc.returncode == 1, (stdout, stderr)
    assert f"{name}: the index says sha256 {listed_sha}, the file downloaded has {got}" in stderr, stderr
    assert list(out.iterdir()) == [], "a refused download leaves nothing behind"


# ---- devpi-server: PEP 691 JSON and HTML ----


def devpi_upload(base: str, auth: dict, wheel: Path, name: str, version: str):
    boundary = uuid.uuid4().hex
    fields = {":action": "file_upload", "name": name, "version": version, "protocol_version": "1", "filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1"}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items())
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{wheel.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
    body += wheel.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{base}/root/dev/", data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **auth})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


@pytest.fixture(scope="module")
def devpi(tmp_path_factory):
    root = tmp_path_factory.mktemp("devpi")
    server_dir = root / "server"
    p = run(tool("devpi-init"), "--serverdir", server_dir, "--no-root-pypi", "--root-passwd", "interop")
    assert p.returncode == 0, p.stderr
    port = free_port()
    log = root / "log.txt"
    with log.open("w") as out:
        proc = subprocess.Popen([tool("devpi-server"), "--serverdir", str(server_dir), "--host", "127.0.0.1", "--port", str(port), "--offline-mode"], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, log)
        base = f"http://127.0.0.1:{port}"
        login = urllib.request.Request(f"{base}/+login", data=json.dumps({"user": "root", "password": "interop"}).encode(), method="POST", headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(login, timeout=30) as r:
            token = json.load(r)["result"]["password"]
        auth = {"X-Devpi-Auth": base64.b64encode(f"root:{token}".encode()).decode(), "Accept": "application/json"}
        make = urllib.request.Request(f"{base}/root/dev", data=json.dumps({"type": "stage", "bases": [], "volatile": True}).encode(), method="PUT", headers={"Content-Type": "application/json", **auth})
        urllib.request.urlopen(make, timeout=30).close()
        wheels = root / "wheels"
        wheels.mkdir()
        uploaded = [build_wheel(wheels, "demo", "1.0"), build_wheel(wheels, "demo", "2.0", files={"demo/__init__.py": b"V = 2\n"})]
        for w, v in zip(uploaded, ["1.0", "2.0"]):
            devpi_upload(base, auth, w, "demo", v)
        yield f"{base}/root/dev/+simple/", uploaded
    finally:
        stop(proc)


def test_devpi_json_and_html_agree(probe, devpi, tmp_path):
    index, wheels = devpi
    # Our Accept header gets PEP 691 JSON from devpi: that is what `list` parses.
    content_type, body = fetch(index + "demo/", ACCEPT)
    assert content_type == "application/vnd.pypi.simple.v1+json", content_type
    assert json.loads(body)["meta"]["api-version"].startswith("1.")
    files = listed(probe, index, "demo")
    assert {f["filename"]: f["sha256"] for f in files} == {w.name: sha256(w) for w in wheels}
    for f in files:
        assert f["url"].startswith(index.split("+simple")[0] + "+f/"), f["url"]
        assert f["requires_python"] is None, "devpi's empty requires-python is none"
    # The same page as HTML, parsed offline, gives the same files.
    html_type, html = fetch(index + "demo/", "text/html")
    assert html_type.startswith("text/html")
    page = tmp_path / "page.html"
    page.write_bytes(html)
    p = probe("parse", page, html_type, index + "demo/")
    assert p.returncode == 0, p.stderr
    assert sorted(json.loads(p.stdout), key=lambda f: f["filename"]) == sorted(files, key=lambda f: f["filename"])
    p = probe("download", index, "demo", wheels[1].name, tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / wheels[1].name).read_bytes() == wheels[1].read_bytes()


# ---- a hand-written PEP 691 index ----


class PageServer:
    """Serves `pages[path] = (content_type, body)`; records the Accept headers it was sent."""

    def __init__(self):
        self.pages = {}
        self.accepts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.accepts.append((self.path, self.headers.get("Accept")))
                if self.path not in outer.pages:
                    self.send_error(404)
                    return
                content_type, body = outer.pages[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json_page(self, project: str, files: list, api="1.1"):
        page = {"meta": {"api-version": api}, "name": project, "files": files}
        self.pages[f"/simple/{project}/"] = ("application/vnd.pypi.simple.v1+json", json.dumps(page).encode())

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pages():
    s = PageServer()
    yield s
    s.close()


def test_pep691_page_with_pep700_fields(probe, pages, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "3.0")
    data = wheel.read_bytes()
    pages.pages["/files/demo-3.0-py3-none-any.whl"] = ("application/octet-stream", data)
    pages.json_page(
        "demo",
        [
            {"filename": wheel.name, "url": "../../files/demo-3.0-py3-none-any.whl", "hashes": {"sha256": hashlib.sha256(data).hexdigest().upper(), "md5": "x"}, "size": len(data), "upload-time": "2026-01-02T03:04:05.678901Z", "requires-python": ">=3.9", "core-metadata": False},
            {"filename": "demo-2.0.tar.gz", "url": "/files/demo-2.0.tar.gz", "hashes": {}, "yanked": "broken build", "upload-time": "2025-12-31T23:59:60Z"},
        ],
    )
    files = listed(probe, pages.base + "/simple", "Demo")
    assert pages.accepts[0] == ("/simple/demo/", ACCEPT)
    assert files[0] == {
        "filename": wheel.name,
        "url": pages.base + "/files/demo-3.0-py3-none-any.whl",
        "sha256": hashlib.sha256(data).hexdigest(),
        "upload_time": "2026-01-02T03:04:05.678901Z",
        "yanked": None,
        "requires_python": ">=3.9",
        "size": len(data),
        "wheel": {"distribution": "demo", "project": "demo", "version": "3.0", "build": None, "python": "py3", "abi": "none", "platform": "any"},
    }
    assert files[1]["yanked"] == "broken build" and files[1]["sha256"] is None and files[1]["wheel"] is None
    out = tmp_path / "out"
    out.mkdir()
    p = probe("download", pages.base + "/simple/", "demo", wheel.name, out)
    assert p.returncode == 0, p.stderr
    assert (out / wheel.name).read_bytes() == data
    # No sha256 from the index: nothing to check the download against, so no download.
    p = probe("download", pages.base + "/simple/", "demo", "demo-2.0.tar.gz", out)
    assert p.returncode == 1 and "publishes no sha256" in p.stderr, p.stderr
    assert [x.name for x in out.iterdir()] == [wheel.name]


def test_sizes_are_enforced_while_streaming(probe, pages, tmp_path):
    data = b"x" * 200_000
    digest = hashlib.sha256(data).hexdigest()
    pages.pages["/f/a-1.0.tar.gz"] = ("application/octet-stream", data)
    for size, message in [(100_000, "the server announces 200000 bytes; the index says it is 100000 bytes"), (300_000, "the index says 300000 bytes, the file downloaded has 200000")]:
        pages.json_page("a", [{"filename": "a-1.0.tar.gz", "url": "/f/a-1.0.tar.gz", "hashes": {"sha256": digest}, "size": size}])
        p = probe("download", pages.base + "/simple/", "a", "a-1.0.tar.gz", tmp_path)
        assert p.returncode == 1 and message in p.stderr, p.stderr
        assert list(tmp_path.iterdir()) == []
    pages.json_page("a", [{"filename": "a-1.0.tar.gz", "url": "/f/a-1.0.tar.gz", "hashes": {"sha256": digest}, "size": 5 << 30}])
    p = probe("download", pages.base + "/simple/", "a", "a-1.0.tar.gz", tmp_path)
    assert p.returncode == 1 and "the download limit is 4294967296" in p.stderr, p.stderr


@pytest.mark.parametrize(
    "files, content_type, message",
    [
        ([{"filename": "a-1.0.tar.gz", "url": "/f/1", "hashes": {}}] * 2, None, "the page lists a-1.0.tar.gz twice"),
        ([{"filename": "a-1.0.tar.gz", "url": "javascript:alert(1)", "hashes": {}}], None, 'scheme "javascript" is not allowed'),
        ([{"filename": "a-1.0.tar.gz", "url": "http://files.example/a-1.0.tar.gz", "hashes": {}}], None, "plain http to a host other than loopback"),
        ([{"filename": "../a-1.0.tar.gz", "url": "/f/1", "hashes": {}}], None, "starting with '.'"),
        ([{"filename": "a/b-1.0.tar.gz", "url": "/f/1", "hashes": {}}], None, "no path separators"),
        ([{"filename": "a-1.0.tar.gz", "url": "/f/1", "hashes": {"sha256": "abc"}}], None, "is not a sha256 digest (64 hex digits)"),
        ([{"filename": "a-1.0.tar.gz", "url": "/f/1", "hashes": {}, "upload-time": "2026-02-30T00:00:00Z"}], None, "upload-time"),
        ([], "application/json", "is not a project page"),
        ([], "text/html; charset=latin-1", 'charset "latin-1"'),
    ],
)
def test_hostile_pages_are_refused(probe, pages, files, content_type, message):
    pages.json_page("a", files)
    if content_type:
        pages.pages["/simple/a/"] = (content_type, pages.pages["/simple/a/"][1])
    p = probe("list", pages.base + "/simple/", "a")
    assert p.returncode == 1 and message in p.stderr, p.stderr


def test_api_version_2_is_refused(probe, pages):
    pages.json_page("a", [], api="2.0")
    p = probe("list", pages.base + "/simple/", "a")
    assert p.returncode == 1 and 'meta.api-version "2.0"' in p.stderr, p.stderr


def test_oversized_page_is_refused(probe, pages):
    pages.pages["/simple/a/"] = ("text/html", b" " * ((64 << 20) + 1))
    p = probe("list", pages.base + "/simple/", "a")
    assert p.returncode == 1 and "limit 67108864 bytes" in p.stderr, p.stderr
