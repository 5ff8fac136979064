from __future__ import annotations

from pathlib import Path

import pytest

from ayka.secrets import ensure_secrets
from ayka.settings import Settings, describe_error

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    text = README.read_text()
    missing = []
    for name in Settings.model_fields:
        env = f"AYKA_{name.upper()}"
        # grouped rows like `AYKA_SMTP_HOST` / `_PORT` name the rest by suffix
        if env not in text and f"`_{name.upper().split('_', 1)[-1]}`" not in text:
            missing.append(env)
    assert not missing, f"undocumented settings: {missing}"


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("AYKA_"):
            monkeypatch.delenv(key)
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path(".ayka")
    assert settings.nats_url == "" and settings.database_url == ""
    assert settings.archive_url.startswith("file://") and settings.archive_url.endswith("/.ayka/archive")
    assert settings.compute_type == "int8"


@pytest.mark.parametrize(
    ("env", "value", "name"),
    [
        ("AYKA_PORT", "eighty", "AYKA_PORT"),
        ("AYKA_NATS_URL", "http://x", "AYKA_NATS_URL"),
        ("AYKA_DATABASE_URL", "mysql://x", "AYKA_DATABASE_URL"),
        ("AYKA_ASR_DEVICE", "tpu", "AYKA_ASR_DEVICE"),
        ("AYKA_LOG_LEVEL", "loud", "AYKA_LOG_LEVEL"),
    ],
)
def test_bad_values_are_described_in_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, name: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(Exception) as err:
        Settings()
    line = describe_error(err.value)
    assert name in line and "\n" not in line


def test_a_bad_archive_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AYKA_ARCHIVE_URL", "ftp://x")
    with pytest.raises(ValueError, match="AYKA_ARCHIVE_URL"):
        Settings()


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    settings = ensure_secrets(Settings(data_dir=tmp_path))
    again = ensure_secrets(Settings(data_dir=tmp_path))
    assert settings.jwt_secret and settings.jwt_secret == again.jwt_secret
    assert settings.url_signing_secret == again.url_signing_secret
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    given = ensure_secrets(Settings(data_dir=tmp_path, jwt_secret="from-env"))
    assert given.jwt_secret == "from-env"
