"""Departments and users of the institution."""

from __future__ import annotations

import os
import re

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import ROLES, Department, User
from services.errors import InvalidInput, NotFound

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位。", f"A password needs at least {MIN_PASSWORD} characters.",
                           field="password")
    # Tests lower the work factor; production keeps bcrypt's default of 12.
    rounds = int(os.environ.get("COMPLAINTS_BCRYPT_ROUNDS", "12"))
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def department_by_code(session: Session, code: str) -> Department:
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise NotFound(f"部门“{code}”不存在。", f"Department '{code}' does not exist.", field="department")
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
                roles: list[str], department_code: str | None = None) -> User:
    if not USERNAME.match(username):
        raise InvalidInput("用户名须为 2–64 位字母、数字或 _ . -。",
                           "A username is 2–64 letters, digits or _ . -.", field="username")
    if not display_name.strip():
        raise InvalidInput("请填写姓名。", "Enter the person's name.", field="display_name")
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise InvalidInput(f"角色无效：{unknown or '未选择'}。", f"Invalid roles: {unknown or 'none chosen'}.",
                           field="roles")
    if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput(f"用户名“{username}”已被使用。", f"Username '{username}' is taken.", field="username")
    department = department_by_code(uow.session, department_code) if department_code else None
    user = User(username=username, display_name=display_name.strip(), password_hash=hash_password(password),
                roles=sorted(set(roles)), department_id=department.id if department else None)
    uow.session.add(user)
    uow.flush()
    return user


def handlers_by_department(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Active handlers and heads per department code: whom a case may be forwarded to."""
    rows = session.execute(select(Department.code, User.id, User.display_name)
                           .join(Department, User.department_id == Department.id)
                           .where(User.active.is_(True), User.roles.overlap(["handler", "dept_head"]))
                           .order_by(Department.code, User.display_name))
    found: dict[str, list[tuple[int, str]]] = {}
    for code, user_id, name in rows:
        found.setdefault(code, []).append((user_id, name))
    return found
