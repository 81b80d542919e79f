"""Configuration is validated, names the bad variable, and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webmap.config import ConfigError, Settings, load_settings, settings_fields

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_are_for_the_local_demo() -> None:
    s = load_settings({})
    assert s.mode == "demo"
    assert s.pg_port != 5432  # never the system PostgreSQL's port


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CSMAP_PG_PORT": "eighty"}, "CSMAP_PG_PORT"),
        ({"CSMAP_PG_PORT": "80"}, "CSMAP_PG_PORT"),
        ({"CSMAP_MODE": "chaos"}, "CSMAP_MODE"),
        ({"CSMAP_SERVICE_AREA": "1,2,3"}, "CSMAP_SERVICE_AREA"),
        ({"CSMAP_SERVICE_AREA": "2,54,1,55"}, "service_area"),
        ({"CSMAP_MODE": "production"}, "secret_key"),
        ({"CSMAP_SECRET_KEY": "short"}, "secret_key"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


def test_production_requires_every_secret() -> None:
    key = "x" * 40
    with pytest.raises(ConfigError, match="hmac_key"):
        load_settings({"CSMAP_MODE": "production", "CSMAP_SECRET_KEY": key})
    s = load_settings({"CSMAP_MODE": "production", "CSMAP_SECRET_KEY": key, "CSMAP_HMAC_KEY": key})
    assert s.secret("secret_key") == key


def test_demo_mode_generates_each_secret_once(tmp_path: Path) -> None:
    s = Settings(mode="demo", var_dir=tmp_path)
    generated = s.secret("hmac_key")
    assert len(generated) >= 32
    assert s.secret("hmac_key") == generated  # stable across calls (and restarts)
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0


def test_unknown_prefixed_variables_are_ignored_but_others_untouched() -> None:
    assert load_settings({"CSMAP_NOT_A_SETTING": "1", "PATH": "/bin"}).mode == "demo"


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`(CSMAP_[A-Z_]+)`", README.read_text()))
    missing = set(settings_fields()) - documented
    assert not missing, f"settings missing from README's configuration table: {missing}"
    stale = documented - set(settings_fields()) - {"CSMAP_"}
    assert not stale, f"README documents settings that do not exist: {stale}"


def test_every_role_and_policy_rule_is_documented() -> None:
    from webmap.access.policy import POLICY
    from webmap.models import USER_ROLES

    text = README.read_text()
    for role in USER_ROLES:
        assert f"| {role.replace('_', ' ')} |" in text, f"role {role} missing from README"
    for key, rule in POLICY.items():
        assert rule.description.strip(), f"policy rule {key} has no description"
