"""Where the SMB password comes from: option, environment, settings file or prompt."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from shibaws.backup.errors import BackupConfigInvalid
from shibaws.backup.password import PASSWORD_FILE_ENV, read_password_file, resolve_smb_password


def write_secret(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def no_prompt(message: str) -> str:
    raise AssertionError(f"unexpected prompt: {message}")


def test_read_password_file_strips_one_line_break(tmp_path: Path) -> None:
    assert read_password_file(write_secret(tmp_path / "a", "s3cret\n")) == "s3cret"
    assert read_password_file(write_secret(tmp_path / "b", "s3cret\r\n")) == "s3cret"
    assert read_password_file(write_secret(tmp_path / "c", " spaced pw ")) == " spaced pw "


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "is empty"), ("\n", "is empty"), ("one\ntwo\n", "more than one line")],
)
def test_read_password_file_rejects_bad_content(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(BackupConfigInvalid) as caught:
        read_password_file(write_secret(tmp_path / "pw", text))

    assert expected in str(caught.value)


def test_read_password_file_missing(tmp_path: Path) -> None:
    with pytest.raises(BackupConfigInvalid) as caught:
        read_password_file(tmp_path / "absent", "--smb-password-file")

    assert str(tmp_path / "absent") in str(caught.value)
    assert "--smb-password-file" in str(caught.value)


def test_read_password_file_rejects_folder(tmp_path: Path) -> None:
    with pytest.raises(BackupConfigInvalid) as caught:
        read_password_file(tmp_path)

    assert "not a regular file" in str(caught.value)


def test_read_password_file_warns_when_world_readable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_secret(tmp_path / "pw", "s3cret", mode=0o644)

    with caplog.at_level(logging.WARNING, logger="shibaws.backup.password"):
        read_password_file(path)

    assert "chmod 600" in caplog.text
    assert "s3cret" not in caplog.text


def test_resolve_prefers_option_over_environment(tmp_path: Path) -> None:
    option = write_secret(tmp_path / "option", "from-option")
    env = write_secret(tmp_path / "env", "from-env")
    config = write_secret(tmp_path / "config", "from-config")

    password = resolve_smb_password(
        option_file=str(option),
        config_file=str(config),
        account="svc",
        environ={PASSWORD_FILE_ENV: str(env)},
        prompt=no_prompt,
    )

    assert password.value == "from-option"
    assert "--smb-password-file" in password.origin


def test_resolve_prefers_environment_over_settings(tmp_path: Path) -> None:
    env = write_secret(tmp_path / "env", "from-env")
    config = write_secret(tmp_path / "config", "from-config")

    password = resolve_smb_password(
        option_file=None,
        config_file=str(config),
        account="svc",
        environ={PASSWORD_FILE_ENV: str(env)},
        prompt=no_prompt,
    )

    assert password.value == "from-env"
    assert PASSWORD_FILE_ENV in password.origin


def test_resolve_uses_settings_file_entry(tmp_path: Path) -> None:
    config = write_secret(tmp_path / "config", "from-config")

    password = resolve_smb_password(
        option_file=None, config_file=str(config), account="svc", environ={}, prompt=no_prompt
    )

    assert password.value == "from-config"


def test_resolve_prompts_on_a_terminal() -> None:
    prompts: list[str] = []

    def prompt(message: str) -> str:
        prompts.append(message)
        return "typed"

    password = resolve_smb_password(
        option_file=None,
        config_file=None,
        account="CAMPUS\\svc",
        environ={},
        prompt=prompt,
        interactive=True,
    )

    assert password.value == "typed"
    assert password.origin == "prompt"
    assert prompts == ["SMB password for CAMPUS\\svc: "]


def test_resolve_without_terminal_names_the_options() -> None:
    with pytest.raises(BackupConfigInvalid) as caught:
        resolve_smb_password(
            option_file=None, config_file=None, account="svc", environ={}, interactive=False
        )

    assert "--smb-password-file" in str(caught.value)
    assert PASSWORD_FILE_ENV in str(caught.value)


def test_resolve_repr_hides_the_value(tmp_path: Path) -> None:
    option = write_secret(tmp_path / "option", "do-not-show")

    password = resolve_smb_password(option_file=str(option), config_file=None, account="svc")

    assert "do-not-show" not in repr(password)
