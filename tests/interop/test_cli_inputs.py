"""Hostile or malformed CLI inputs: each is a clear error (exit 2) that says what and where."""
import json
import subprocess

import pytest

from conftest import build_wheel


def test_corrupted_trust_store_is_an_error_not_a_reset(tmp_path, wheelsig):
    store = tmp_path / "trust.json"
    store.write_text('{"version": 1, "projects": {"demo": {"kid": "a", "kid": "b"}}}')
    p = wheelsig.run("verify", "--tofu", build_wheel(tmp_path))
    assert p.returncode == 2
    assert "trust store is not valid JSON: duplicate member name \"kid\"" in p.stderr
    assert store.read_text().startswith('{"version": 1'), "the store is left as it was"


def test_pins_file_with_comments_and_a_bad_line(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    me = wheelsig.keygen(tmp_path / "me.jwk")
    wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl)
    pins = tmp_path / "pins.txt"
    pins.write_text(f"# pinned as tested\nDemo {me['kid']}  # the release key\n\nrequests {'abcDEF_-1' * 4}abcDEF_\n")
    code, report = wheelsig.report("--require-trusted", "--pins", pins, whl)
    assert (code, report["verdict"]) == (0, "trusted")
    assert report["signatures"][0]["trusted_by"]["kind"] == "pin"

    pins.write_text(f"demo {me['kid']}\nthis line has three fields\n")
    p = wheelsig.run("verify", "--pins", pins, whl)
    assert p.returncode == 2 and f"{pins}:2: expected `project kid`" in p.stderr

    # A key id is a 43-character RFC 7638 thumbprint; anything else is a mistake, not a pin.
    pins.write_text("demo abcDEF_-1\n")
    p = wheelsig.run("verify", "--pins", pins, whl)
    assert p.returncode == 2 and f"{pins}:1:" in p.stderr and "is not a key id" in p.stderr


def test_pinned_to_another_key(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    wheelsig.keygen(tmp_path / "me.jwk")
    other = wheelsig.keygen(tmp_path / "other.jwk")
    wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl)
    code, report = wheelsig.report("--pin", f"demo={other['kid']}", whl)
    assert (code, report["verdict"]) == (1, "untrusted")
    assert [p["code"] for p in report["problems"]] == ["trust-not-pinned"]


def test_key_set_with_a_private_key_is_refused(tmp_path, wheelsig):
    wheelsig.keygen(tmp_path / "me.jwk")
    leaked = tmp_path / "keys.json"
    leaked.write_text(json.dumps({"keys": [json.loads((tmp_path / "me.jwk").read_text())]}))
    p = wheelsig.run("verify", "--jwks", leaked, build_wheel(tmp_path))
    assert p.returncode == 2
    assert "keys[0]: contains a private key (`d`)" in p.stderr


def test_signing_an_invalid_wheel_is_refused(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    data = bytearray(whl.read_bytes())
    data[40] ^= 0xFF  # inside the first member's compressed data
    whl.write_bytes(bytes(data))
    wheelsig.keygen(tmp_path / "me.jwk")
    p = wheelsig.run("sign", "--key", tmp_path / "me.jwk", whl)
    assert p.returncode == 2 and "refusing to sign an invalid wheel" in p.stderr
    assert not (tmp_path / f"{whl.name}.jws").exists()


def test_keygen_does_not_overwrite_and_writes_mode_0600(tmp_path, wheelsig):
    key = tmp_path / "me.jwk"
    wheelsig.keygen(key)
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_text()
    p = wheelsig.run("keygen", "--out", key)
    assert p.returncode == 2 and "exists; pass --force" in p.stderr
    assert key.read_text() == before


def test_unsign_of_an_unsigned_wheel_leaves_it_alone(tmp_path, wheelsig):
    whl = build_wheel(tmp_path)
    before = whl.read_bytes()
    p = wheelsig.run("unsign", whl)
    assert p.returncode == 2 and "not signed" in p.stderr
    assert whl.read_bytes() == before


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completions_are_valid_scripts_naming_the_commands(wheelsig, tmp_path, shell):
    p = wheelsig.run("completions", shell)
    assert p.returncode == 0, p.stderr
    # fish writes long options as `-l key-env`.
    for word in ("verify", "inspect", "key-env", "witness-policy"):
        assert word in p.stdout, word
    if shell == "bash":
        script = tmp_path / "wheelsig.bash"
        script.write_text(p.stdout)
        # bash parses it, and completing `wheelsig ver` offers verify.
        check = subprocess.run(["bash", "-c", f'source {script}; COMP_WORDS=(wheelsig ver); COMP_CWORD=1; COMP_LINE="wheelsig ver"; COMP_POINT=12; _wheelsig wheelsig ver wheelsig; printf "%s\\n" "${{COMPREPLY[@]}}"'], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and "verify" in check.stdout.split(), check.stdout + check.stderr
