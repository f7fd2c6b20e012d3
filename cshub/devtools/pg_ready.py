"""`python -m cshub.devtools.pg_ready URL`: exit 0 when a PostgreSQL server answers at URL's host, else 1.
Creates the database named in the URL's path if it is missing (the test runner makes its own test_ copy)."""

from __future__ import annotations

import sys

import dj_database_url
import psycopg


def main(url: str) -> int:
    cfg = dj_database_url.parse(url)
    params = {
        "host": cfg["HOST"],
        "port": cfg["PORT"] or 5432,
        "user": cfg["USER"],
        "password": cfg["PASSWORD"] or None,
        "connect_timeout": 3,
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
