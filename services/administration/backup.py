"""Backup and restore (issue 8 §8): one archive, restorable on a fresh server.

The archive is a tar file (0600: it holds customers' data) with
- `main.dump` and, when the training database exists, `training.dump`: `pg_dump --format=custom`;
- `manifest.json`: when, the schema's Alembic revision, the server and pg_dump versions, and per database
  its name, file, SHA-256 and the row count of every table, counted in the very snapshot pg_dump dumps.

`pg_dump`/`pg_restore` come from the embedded wheel, or for a shared server (`DATABASE_URL`) from PATH. Rule:
the first of (PATH's, the wheel's) whose major version is at least the server's (pg_dump refuses newer servers,
and a newer pg_restore reads older archives).

A restore recreates the configured database (refusing one that holds users or cases unless `replace`),
restores as the owner without the archive's owners and grants, checks the row counts against the manifest,
then migrates and re-applies the app role's grants (db.engine.prepare). Roles and passwords are not in a
backup: they belong to the server, and the secret files to the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from db.engine import ROOT, owner_engine, prepare
from services.errors import Conflict, DomainError, InvalidInput
from services.rules import clock

FORMAT = 1
MANIFEST = "manifest.json"
FILES = {"main": "main.dump", "training": "training.dump"}
USER_DATA = ("users", "cases", "customers")  # a database holding any of these is not overwritten by accident


class BackupFailed(DomainError):
    """pg_dump or pg_restore could not do its work."""

    code = "backup_failed"


# --- backup -----------------------------------------------------------------------------------------------


def backup(owner_url: str, out: Path) -> dict[str, Any]:
    """Write the archive of the database `owner_url` names (and of its training database) to `out`."""
    owner = make_url(owner_url)
    names = {"main": owner.database, "training": f"{owner.database}_training"}
    with tempfile.TemporaryDirectory(prefix="complaints-backup-") as tmp:
        folder = Path(tmp)
        with _connect(owner) as conn:
            tools = _tools(conn)
            present = set(conn.scalars(text("SELECT datname FROM pg_database")))
            server = conn.scalar(text("SHOW server_version"))
        databases = [_dump(owner.set(database=names[role]), role, folder, tools)
                     for role in FILES if names[role] in present]
        manifest = {"format": FORMAT, "created_at": clock.now().isoformat(timespec="seconds"),
                    "revision": databases[0]["revision"], "server_version": server,
                    "pg_dump": _version(tools / "pg_dump"), "databases": databases}
        _write_archive(out, folder, manifest)
    return manifest


def _dump(url: URL, role: str, folder: Path, tools: Path) -> dict[str, Any]:
    """Dump one database; its row counts and revision come from the snapshot pg_dump then dumps."""
    file = folder / FILES[role]
    with _connect(url, isolation_level="REPEATABLE READ", postgresql_readonly=True) as conn:
        if not conn.scalar(text("SELECT to_regclass('alembic_version')")):
            raise InvalidInput("error.backup.nothing_to_back_up", field="database", database=url.database)
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        rows = _row_counts(conn)
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
        _run([tools / "pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={file}",
              f"--dbname={_conninfo(url)}"], url)
    return {"role": role, "name": url.database, "file": file.name, "sha256": _sha256(file), "revision": revision,
            "rows": rows}


def _write_archive(out: Path, folder: Path, manifest: dict[str, Any]) -> None:
    """Written beside `out` and renamed into place: a crash never leaves half an archive under its name."""
    out = out.absolute()
    fd, partial = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
            for database in manifest["databases"]:
                tar.add(folder / database["file"], arcname=database["file"])
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


# --- restore ----------------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive) as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:  # a link or a directory by that name: not one of our archives
                raise KeyError(MANIFEST)
            manifest = json.load(member)
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError, TypeError):
        raise InvalidInput("error.backup.not_ours", field="file", archive=archive) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("error.backup.version_unsupported", field="file")
    return manifest


def restore(archive: Path, owner_url: str, *, replace: bool = False) -> dict[str, Any]:
    """Restore the archive into the database `owner_url` names (its training database beside it)."""
    manifest = read_manifest(archive)
    _require_known_revision(manifest["revision"])
    owner = make_url(owner_url)
    names = {"main": owner.database, "training": f"{owner.database}_training"}
    with _connect(owner.set(database="postgres")) as conn:
        tools = _tools(conn)
        if not replace and _holds_user_data(owner):
            raise Conflict("error.backup.database_not_empty", field="replace", database=owner.database)
    with tempfile.TemporaryDirectory(prefix="complaints-restore-") as tmp, tarfile.open(archive) as tar:
        for database in manifest["databases"]:
            url = owner.set(database=names[database["role"]])
            dump = Path(tmp) / FILES[database["role"]]
            try:
                member = tar.extractfile(database["file"])  # named members only
            except KeyError:  # missing, or a link to nothing in the archive
                member = None
            if member is None:  # or a directory where the dump should be
                raise InvalidInput("error.backup.dump_missing", field="file")
            with member as source, dump.open("wb") as target:
                shutil.copyfileobj(source, target)
            if _sha256(dump) != database["sha256"]:
                raise InvalidInput("error.backup.damaged", field="file")
            _recreate(url)
            _run([tools / "pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                  f"--dbname={_conninfo(url)}", str(dump)], url)
            with _connect(url) as conn:
                if _row_counts(conn) != database["rows"]:
                    raise BackupFailed("error.backup.row_counts_differ")
            prepare(owner_engine(url.render_as_string(hide_password=False)))  # migrate, app role, grants
    return manifest


def _require_known_revision(revision: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except CommandError:
        raise InvalidInput("error.backup.from_newer_version", field="file", revision=revision) from None


def _holds_user_data(url: URL) -> bool:
    with _connect(url.set(database="postgres")) as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}):
            return False
    with _connect(url) as conn:
        return any(conn.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {table})"))
                   for table in USER_DATA if conn.scalar(text("SELECT to_regclass(:t)"), {"t": table}))


def _recreate(url: URL) -> None:
    """The target database, empty: dropped (ending the app's connections) and created afresh."""
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        engine.dispose()


# --- the PostgreSQL client programs ---------------------------------------------------------------------


@contextlib.contextmanager
def _connect(url: URL, **options: Any) -> Iterator[Connection]:
    """A connection as the owner, without a pool: closed when done."""
    engine = create_engine(url.set(drivername="postgresql+psycopg2"), poolclass=NullPool, hide_parameters=True)
    try:
        with engine.connect() as conn:
            yield conn.execution_options(**options) if options else conn
    finally:
        engine.dispose()


def _tools(conn: Connection) -> Path:
    """The directory of the pg_dump/pg_restore to use: see the module's version rule."""
    server = int(conn.scalar(text("SHOW server_version_num"))) // 10000
    candidates = []
    if os.environ.get("DATABASE_URL") and (pg_dump := shutil.which("pg_dump")):
        candidates.append(Path(pg_dump).parent)
    from db.embedded import EmbeddedServerError, bin_dir

    with contextlib.suppress(EmbeddedServerError):  # a shared-server deployment may not ship the wheel
        candidates.append(bin_dir())
    for folder in candidates:
        if _major(_version(folder / "pg_dump")) >= server:
            return folder
    raise BackupFailed("error.backup.no_pg_dump", server=server)


def _version(program: Path) -> str:
    return subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _major(version: str) -> int:
    found = re.search(r"(\d+)", version.split(")")[-1])
    return int(found.group(1)) if found else 0


def _conninfo(url: URL) -> str:
    """A libpq URI without the password (it goes through PGPASSWORD: never on a command line)."""
    return url._replace(drivername="postgresql", password=None).render_as_string()


def _run(command: list[Any], url: URL) -> None:
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    done = subprocess.run([str(part) for part in command], env=env, capture_output=True, text=True, check=False)
    if done.returncode:  # its first line only: the lines after may quote rows (customers' data)
        name, first = Path(str(command[0])).name, (done.stderr.strip().splitlines() or [""])[0]
        raise BackupFailed("error.backup.tool_failed", tool=name, first=first)


def _row_counts(conn: Connection) -> dict[str, int]:
    tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
    return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
