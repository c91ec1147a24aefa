"""Connecting with psycopg 3 and psycopg2, and what the server reports."""

from __future__ import annotations

import psycopg
import psycopg2
import pytest
from conftest import Server


@pytest.mark.freshet_only
def test_connect_with_defaults(server: Server) -> None:
    # The defaults every tutorial uses: database dev, user root, no password.
    with psycopg.connect(
        host=server.host, port=server.port, dbname="dev", user="root"
    ) as connection:
        assert connection.info.dbname == "dev"
        assert connection.info.user == "root"
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_connect_and_select(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT 1").fetchone() == (1,)
    assert conn.execute("SELECT 1 + 1 AS two, 'x' AS letter").fetchall() == [(2, "x")]


def test_parameter_status_drivers_rely_on(conn: psycopg.Connection) -> None:
    info = conn.info
    assert info.server_version >= 90500, "psycopg and Django parse server_version"
    assert info.parameter_status("client_encoding") == "UTF8"
    assert (info.parameter_status("DateStyle") or "").startswith("ISO")
    assert info.parameter_status("integer_datetimes") == "on"
    assert info.parameter_status("standard_conforming_strings") == "on"
    assert info.parameter_status("TimeZone") is not None


def test_connect_with_psycopg2(server: Server) -> None:
    connection = psycopg2.connect(
        host=server.host,
        port=server.port,
        dbname=server.dbname,
        user=server.user,
        connect_timeout=10,
    )
    try:
        assert connection.server_version >= 90500
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1, 'two', NULL")
            assert cursor.fetchone() == (1, "two", None)
        connection.rollback()
    finally:
        connection.close()


def test_several_connections_at_once(server: Server) -> None:
    connections = [server.connect(autocommit=True) for _ in range(5)]
    try:
        for i, connection in enumerate(connections):
            assert connection.execute("SELECT %s::int", (i,)).fetchone() == (i,)
    finally:
        for connection in connections:
            connection.close()


def test_wrong_database_is_rejected(server: Server) -> None:
    with pytest.raises(psycopg.OperationalError) as failure:
        psycopg.connect(
            host=server.host,
            port=server.port,
            dbname="no_such_database_x",
            user=server.user,
            connect_timeout=10,
        )
    assert "no_such_database_x" in str(failure.value)
