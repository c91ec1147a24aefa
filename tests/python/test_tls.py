"""TLS: a server started with ``--tls-cert``/``--tls-key`` encrypts the
connections that ask for it (libpq's sslmode), verifiably (verify-full
against the test CA), with SCRAM passwords on top; plain connections still
work; a broken handshake or bad key files fail cleanly.

The certificates are made by ``openssl`` for this test (a CA and a server
certificate for ``localhost`` and ``127.0.0.1``). Freshet only: the test
starts its own servers.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import _free_port, _freshet_binary, _wait_until_accepting

pytestmark = pytest.mark.freshet_only


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs() -> Iterator[Path]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make test certificates (.ci/run installs it)", pytrace=False)
    d = Path(tempfile.mkdtemp(prefix="freshet-tls-"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=Freshet test CA", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    # A second CA that did not sign the server's certificate.
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt",
             "-days", "2", "-subj", "/CN=Other CA", cwd=d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _start(certs: Path, *extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    scratch = Path(tempfile.mkdtemp(prefix="freshet-tls-server-"))
    port = _free_port()
    stderr_path = scratch / "stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [str(_freshet_binary()), "serve", "--data-dir", str(scratch / "data"), "--listen", f"127.0.0.1:{port}",
             "--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "server.key"), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    _wait_until_accepting(process, port, stderr_path)
    return process, port, scratch


@pytest.fixture(scope="module")
def tls_server(certs: Path) -> Iterator[int]:
    process, port, scratch = _start(certs, "--password", "s3cret")
    yield port
    process.kill()
    process.wait(timeout=30)
    shutil.rmtree(scratch, ignore_errors=True)


def _dsn(port: int, **params: str) -> str:
    base = {"host": "localhost", "port": str(port), "dbname": "dev", "user": "root", "password": "s3cret"}
    base.update(params)
    return " ".join(f"{k}={v}" for k, v in base.items())


def test_verified_encrypted_session(tls_server: int, certs: Path) -> None:
    dsn = _dsn(tls_server, sslmode="verify-full", sslrootcert=str(certs / "ca.crt"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        conn.execute("CREATE TABLE tls_t (id int PRIMARY KEY, note text)")
        # Enough data to span many TLS records in both directions.
        rows = [(i, "x" * 500) for i in range(2000)]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO tls_t VALUES (%s, %s)", rows)
            with cur.copy("COPY tls_t TO STDOUT") as copy:
                copied = sum(1 for _ in copy.rows())
            assert copied == len(rows)
            cur.execute("SELECT count(*), sum(length(note)) FROM tls_t")
            assert cur.fetchone() == (2000, 1_000_000)


def test_plain_connections_still_work(tls_server: int) -> None:
    with psycopg.connect(_dsn(tls_server, sslmode="disable")) as conn:
        assert not conn.pgconn.ssl_in_use
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_wrong_password_over_tls_is_refused(tls_server: int) -> None:
    with pytest.raises(psycopg.OperationalError) as failure:
        psycopg.connect(_dsn(tls_server, sslmode="require", password="wrong"))
    assert "password authentication failed" in str(failure.value)


def test_untrusted_ca_fails_verification(tls_server: int, certs: Path) -> None:
    with pytest.raises(psycopg.OperationalError) as failure:
        psycopg.connect(_dsn(tls_server, sslmode="verify-full", sslrootcert=str(certs / "other.crt")))
    assert "certificate verify failed" in str(failure.value)


def test_plaintext_after_ssl_accept_drops_only_that_connection(tls_server: int) -> None:
    with socket.create_connection(("127.0.0.1", tls_server), timeout=10) as s:
        s.sendall(struct.pack("!ii", 8, 80877103))
        assert s.recv(1) == b"S"
        # A startup packet in clear text where a TLS ClientHello belongs.
        body = struct.pack("!i", 196608) + b"user\0root\0\0"
        s.sendall(struct.pack("!i", len(body) + 4) + body)
        try:
            leftover = s.recv(1024)
        except OSError:
            leftover = b""
        assert b"SCRAM" not in leftover and not leftover.startswith(b"R")
    with psycopg.connect(_dsn(tls_server, sslmode="require")) as conn:
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_bad_key_file_stops_startup(certs: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="freshet-tls-bad-"))
    try:
        result = subprocess.run(
            [str(_freshet_binary()), "serve", "--data-dir", str(scratch / "data"), "--listen", f"127.0.0.1:{_free_port()}",
             "--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "ca.crt")],
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 1
        assert "no usable private key" in result.stderr
        mismatched = subprocess.run(
            [str(_freshet_binary()), "serve", "--data-dir", str(scratch / "data"), "--listen", f"127.0.0.1:{_free_port()}",
             "--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "other.key")],
            capture_output=True, text=True, timeout=60,
        )
        assert mismatched.returncode == 1
        assert "TLS" in mismatched.stderr
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
