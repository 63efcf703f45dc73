"""Backup and restore (issue 8 §8): an archive restored into a fresh database has the same rows, the same
timelines and a working app running as its least-privileged role."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from db.engine import ROOT, app_url, make_engine, owner_url_of
from db.models import Case, CaseEvent
from services.administration import backup
from services.casework import case_view
from services.errors import Conflict, InvalidInput
from services.unit_of_work import transaction
from tests.conftest import TEMPLATE, database_url
from tests.service.conftest import Institution, make_institution


@pytest.fixture
def bank(engine) -> Institution:
    inst = make_institution(engine, "bank")
    for _ in range(3):
        inst.intake()
    return inst


@pytest.fixture
def fresh(engine, admin_engine, server_url):
    """The owner's URL of a database that does not exist yet; it and its training database go afterwards."""
    name = f"{engine.url.database}_restored"
    yield database_url(server_url, name)
    with admin_engine.connect() as conn:
        for database in (name, f"{name}_training"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        counts = {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}
    engine.dispose()
    return counts


def timeline(engine, case_no: str) -> list[tuple]:
    with transaction(engine) as uow:
        return [tuple(row) for row in uow.session.execute(
            select(CaseEvent.event_type, CaseEvent.at, CaseEvent.to_state, CaseEvent.note).join(Case)
            .where(Case.case_no == case_no).order_by(CaseEvent.id))]


def test_a_restored_backup_has_the_same_rows_and_timelines_and_a_working_app(bank, engine, fresh, tmp_path):
    source = owner_url_of(engine.url)
    archive = tmp_path / "complaints.tar"
    manifest = backup.backup(source, archive)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds customers' data
    assert [d["role"] for d in manifest["databases"]] == ["main"]  # no training database yet
    assert manifest["databases"][0]["rows"]["cases"] == 3

    backup.restore(archive, fresh)
    assert row_counts(fresh) == row_counts(source) == manifest["databases"][0]["rows"]
    restored = make_engine(app_url(fresh))  # the app's role: the grants were re-applied
    with transaction(engine) as uow:
        case_no = uow.session.scalars(select(Case.case_no).order_by(Case.id)).first()
    assert timeline(restored, case_no) == timeline(engine, case_no) != []
    again = Institution(restored, "bank", bank.users)
    with again.uow() as uow:
        assert case_view.case_detail(uow, bank.users["head"], case_no).case_no == case_no
    assert again.intake().case_no not in {case_no}  # numbering goes on from the restored counters
    with pytest.raises(DBAPIError) as refused, restored.begin() as conn:
        conn.execute(text("TRUNCATE case_events"))
    assert refused.value.orig.pgcode == "42501"
    restored.dispose()


def test_a_restore_refuses_a_database_that_holds_data_unless_told_to_replace_it(bank, engine, tmp_path):
    target = owner_url_of(engine.url)
    archive = tmp_path / "complaints.tar"
    backup.backup(target, archive)
    bank.intake()  # the database moves on after the backup
    with pytest.raises(Conflict, match="--replace"):
        backup.restore(archive, target)
    assert row_counts(target)["cases"] == 4
    engine.dispose()
    backup.restore(archive, target, replace=True)
    assert row_counts(target)["cases"] == 3


def test_a_damaged_or_foreign_archive_is_refused_before_anything_is_touched(bank, engine, tmp_path):
    target = owner_url_of(engine.url)
    foreign = tmp_path / "foreign.tar"
    foreign.write_bytes(b"not a tar file")
    with pytest.raises(InvalidInput, match="not a backup"):
        backup.restore(foreign, target, replace=True)
    assert row_counts(target)["cases"] == 3


def archive_with(tmp_path, manifest: dict | None, directories: tuple[str, ...] = ()):
    """A tar whose manifest is `manifest` (a directory when None), with empty `directories` beside it."""
    archive = tmp_path / "crafted.tar"
    with tarfile.open(archive, "w") as tar:
        entry = tarfile.TarInfo(backup.MANIFEST)
        if manifest is None:
            entry.type = tarfile.DIRTYPE
            tar.addfile(entry)
        else:
            data = json.dumps(manifest).encode()
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
        for name in directories:
            folder = tarfile.TarInfo(name)
            folder.type = tarfile.DIRTYPE
            tar.addfile(folder)
    return archive


def test_an_archive_whose_manifest_is_not_a_file_is_not_a_backup(tmp_path):
    with pytest.raises(InvalidInput, match="not a backup"):
        backup.read_manifest(archive_with(tmp_path, None))


@pytest.mark.parametrize("directories", [(), ("main.dump",)], ids=["dump missing", "dump a directory"])
def test_an_archive_without_its_dump_is_refused_as_damaged_before_anything_is_created(engine, admin_engine, fresh,
                                                                                      tmp_path, directories):
    with engine.connect() as conn:
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    manifest = {"format": backup.FORMAT, "revision": revision,
                "databases": [{"role": "main", "file": "main.dump", "sha256": "0" * 64}]}
    with pytest.raises(InvalidInput, match="damaged"):
        backup.restore(archive_with(tmp_path, manifest, directories), fresh)
    with admin_engine.connect() as conn:
        assert conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                           {"d": make_url(fresh).database}) is None


def cli(owner_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": owner_url}
    return subprocess.run([sys.executable, "-m", "services", "--lang", "en", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300, check=False)


def test_the_command_line_backs_up_the_training_database_too_and_restores_both(bank, engine, admin_engine, fresh,
                                                                               tmp_path):
    training = f"{engine.url.database}_training"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{training}" TEMPLATE "{TEMPLATE}"'))
    try:
        archive = tmp_path / "nightly.tar"
        done = cli(owner_url_of(engine.url), "backup", "--out", str(archive))
        assert done.returncode == 0, done.stderr
        with tarfile.open(archive) as tar:
            assert sorted(tar.getnames()) == ["main.dump", "manifest.json", "training.dump"]
            manifest = json.load(tar.extractfile("manifest.json"))
        assert [d["name"] for d in manifest["databases"]] == [engine.url.database, training]
        assert manifest["revision"] == manifest["databases"][0]["revision"]

        done = cli(fresh, "restore", str(archive))
        assert done.returncode == 0, done.stderr
        assert row_counts(fresh)["cases"] == 3
        beside = make_url(fresh)
        beside = beside.set(database=f"{beside.database}_training").render_as_string(hide_password=False)
        assert row_counts(beside)["alembic_version"] == 1
        refused = cli(fresh, "restore", str(archive))
        assert refused.returncode == 2 and "--replace" in refused.stderr
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{training}" WITH (FORCE)'))


def test_a_database_that_was_never_set_up_is_not_backed_up(admin_engine, fresh, tmp_path):
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{make_url(fresh).database}"'))
    with pytest.raises(InvalidInput, match="never set up"):
        backup.backup(fresh, tmp_path / "empty.tar")
    assert list(tmp_path.iterdir()) == []
