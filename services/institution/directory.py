"""Departments and users of the institution."""

from __future__ import annotations

import os
import re

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from db.models import ROLES, Department, User
from services.errors import InvalidInput, Listing, NotFound, Phrase
from services.institution.access import DEPARTMENT_STAFF
from services.unit_of_work import UnitOfWork

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 10  # issue 8 §3
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer input)
MIN_STRENGTH = 3  # zxcvbn's score 0–4: 3 is "safely unguessable" against an offline attack


def check_password(password: str, *, username: str = "", display_name: str = "") -> None:
    """The password policy (issue 8 §3), for every path that sets a password: long enough, within bcrypt's
    72 bytes, and not common or guessable from the person's own names."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("error.password.too_short", field="password", min_chars=MIN_PASSWORD)
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidInput("error.password.too_long", field="password", max_bytes=MAX_PASSWORD_BYTES)
    names = [part for part in (username, display_name, *re.split(r"[._\-\s]+", username)) if part]
    if zxcvbn(password, user_inputs=names)["score"] < MIN_STRENGTH:
        raise InvalidInput("error.password.too_easy", field="password")


def hash_password(password: str, *, username: str = "", display_name: str = "") -> str:
    check_password(password, username=username, display_name=display_name)
    # Tests lower the work factor; production keeps bcrypt's default of 12.
    rounds = int(os.environ.get("COMPLAINTS_BCRYPT_ROUNDS", "12"))
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def department_by_code(session: Session, code: str) -> Department:
    # a department's code never changes: once found, `get` answers from the identity map (the demo looks one up
    # for every case it takes in and forwards, issue 10 §4)
    known: dict[str, int] = session.info.setdefault("department_ids", {})
    department = session.get(Department, known[code]) if code in known else None
    if department is None:
        department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound("error.department.not_found", field="department", code=code)
    known[code] = department.id
    return department


def ensure_department(uow: UnitOfWork, code: str, name: str) -> Department:
    """The department with this code, created if missing (used by set-up and pack activation)."""
    department = uow.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, name=name)
        uow.session.add(department)
        uow.flush()
    return department


def create_user(uow: UnitOfWork, username: str, display_name: str, password: str,
                roles: list[str], department_code: str | None = None, *, title: str | None = None,
                password_hash: str | None = None) -> User:
    """A new user. `title`: the pack role an executive holds (issue 10 §2), checked against the active pack.
    password_hash: a hash already made of `password` (the demo's shared password, issue 10 §4): spares a
    second bcrypt, ¼ s each at the production work factor."""
    if not USERNAME.match(username):
        raise InvalidInput("error.user.bad_username", field="username")
    if not display_name.strip():
        raise InvalidInput("error.user.name_missing", field="display_name")
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise InvalidInput("error.user.bad_roles", field="roles",
                           roles=Listing(unknown) if unknown else Phrase("error.user.no_role_chosen"))
    if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput("error.user.username_taken", field="username", username=username)
    if title and title not in uow.policy().roles:
        raise InvalidInput("error.user.unknown_title", field="title", title=title)
    department = department_by_code(uow.session, department_code) if department_code else None
    password_hash = password_hash or hash_password(password, username=username, display_name=display_name)
    user = User(username=username, display_name=display_name.strip(), password_hash=password_hash,
                roles=sorted(set(roles)), department_id=department.id if department else None,
                pack_role=title or None)
    uow.session.add(user)
    uow.flush()
    return user


def handlers_by_department(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Active handlers and heads per department code: whom a case may be forwarded to."""
    rows = session.execute(select(Department.code, User.id, User.display_name)
                           .join(Department, User.department_id == Department.id)
                           .where(User.active.is_(True), User.roles.overlap(sorted(DEPARTMENT_STAFF)))
                           .order_by(Department.code, User.display_name))
    found: dict[str, list[tuple[int, str]]] = {}
    for code, user_id, name in rows:
        found.setdefault(code, []).append((user_id, name))
    return found
