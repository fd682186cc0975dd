"""`sereno users add` and `sereno users passwd`: the first admin, and the way back in for
an admin who forgot a password or locked the account, both from the machine itself."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from core.clock import WallClock
from core.config import ConfigError, Settings, load_settings
from sereno.auth.passwords import hash_password, password_problem
from sereno.auth.principal import Role
from sereno.auth.service import open_auth_store
from sereno.auth.users import UserError, add_user

EXIT_USAGE = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="local users")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add = users_commands.add_parser("add", help="create a user (the first admin comes from here)")
    add.add_argument("name", help="user name: letters, digits and . _ @ -")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--group", action="append", default=[], metavar="GROUP=ROLE",
        help="a role within one support group, e.g. redes=operator (repeatable)",
    )  # fmt: skip
    add.add_argument("--sso-only", action="store_true", help="no password: single sign-on only")
    passwd = users_commands.add_parser(
        "passwd", help="set a user's password and unlock the account"
    )
    passwd.add_argument("name", help="the user")
    for command in (add, passwd):
        command.add_argument(
            "--password-file", type=Path, metavar="FILE",
            help="read the password from FILE ('-': standard input); default: prompt for it",
        )  # fmt: skip
        command.add_argument("--config", type=Path, help="settings file (YAML)")
        command.add_argument("--data", type=Path, help="folder of the embedded data file")
        command.add_argument("--redis", metavar="URL", help="users kept in Redis instead")


def _read_password(args: argparse.Namespace) -> str:
    if getattr(args, "sso_only", False):
        return ""
    if args.password_file is not None:
        if str(args.password_file) == "-":
            return sys.stdin.read().rstrip("\r\n")
        return str(args.password_file.read_text(encoding="utf-8")).rstrip("\r\n")
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != password:
        raise ConfigError("the two passwords differ")
    return password


def _groups(items: list[str]) -> dict[str, Role]:
    groups: dict[str, Role] = {}
    for item in items:
        group, _, role = item.partition("=")
        if not group or role not in [r.value for r in Role]:
            raise ConfigError(f"--group {item}: write GROUP=ROLE, e.g. redes=operator")
        groups[group] = Role(role)
    return groups


async def _add(settings: Settings, args: argparse.Namespace, password: str) -> str:
    store = open_auth_store(settings)
    try:
        await add_user(store, args.name, Role(args.role), password, WallClock().now(),
                       _groups(args.group), by="sereno users add")  # fmt: skip
    finally:
        await store.close()
    return f"user {args.name} added with role {args.role}"


async def _passwd(settings: Settings, args: argparse.Namespace, password: str) -> str:
    if problem := password_problem(password):
        raise UserError("password", problem)
    store = open_auth_store(settings)
    try:
        user = await store.get_user(args.name)
        if user is None:
            raise UserError("name", f"no user {args.name}")
        await store.put_user(user.model_copy(update={
            "password_hash": hash_password(password), "failures": 0, "locked_until": None,
        }))  # fmt: skip
    finally:
        await store.close()
    return f"password of {args.name} set; the account is unlocked"


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, data_dir=args.data, redis_url=args.redis)
    step = _add if args.users_command == "add" else _passwd
    if args.users_command == "add":
        _groups(args.group)  # a mistake there is said before the password is asked for
    password = _read_password(args)
    try:
        said = asyncio.run(step(settings, args, password))
    except UserError as e:
        print(f"sereno users {args.users_command}: {e}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    print(said)  # noqa: T201 - the command's own output
    return 0
