"""The first-set-up commands: csmap users / agencies, against the real database."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from click.testing import CliRunner

from webmap.cli import main


def test_users_commands_round_trip(
    test_db: dict[str, str], owner_conn: psycopg.Connection[Any]
) -> None:
    runner = CliRunner()
    env = {"CSMAP_OWNER_DATABASE_URL": test_db["owner"]}
    email = f"first.admin.{uuid.uuid4().hex[:6]}@police.test.example"
    created = runner.invoke(
        main,
        [
            "users",
            "create",
            "--agency",
            "police",
            "--email",
            email,
            "--name",
            "First Admin",
            "--role",
            "system_admin",
            "--password",
            "a long enough password",
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(main, ["users", "list", "--agency", "police"], env=env)
    assert listed.exit_code == 0 and email in listed.output
    everyone = runner.invoke(main, ["users", "list"], env=env)
    assert everyone.exit_code == 0 and email in everyone.output
    for command in (
        ["disable", email],
        ["enable", email],
        ["reset-2fa", email],
        ["set-password", email, "--password", "another long password"],
    ):
        result = runner.invoke(main, ["users", *command], env=env)
        assert result.exit_code == 0, (command, result.output)
    epoch = owner_conn.execute(
        "SELECT session_epoch, is_active FROM app_user WHERE email = %s", (email,)
    ).fetchone()
    assert epoch == (5, True)  # every change ended the user's sessions
    short = runner.invoke(main, ["users", "set-password", email, "--password", "short"], env=env)
    assert short.exit_code != 0 and "password" in short.output
    dup = runner.invoke(
        main,
        [
            "users",
            "create",
            "--agency",
            "police",
            "--email",
            email,
            "--name",
            "Again",
            "--role",
            "analyst",
            "--password",
            "a long enough password",
        ],
        env=env,
    )
    assert dup.exit_code != 0 and "already used" in dup.output
    nobody = runner.invoke(main, ["users", "disable", "nobody@nowhere.example"], env=env)
    assert nobody.exit_code != 0 and "no user" in nobody.output
    agencies = runner.invoke(main, ["agencies"], env=env)
    assert agencies.exit_code == 0 and "police" in agencies.output
