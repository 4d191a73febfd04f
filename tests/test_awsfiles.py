"""Surgical edits of the shared credentials and config files."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shibaws import awsfiles
from shibaws.errors import FileWriteFailed, UsageError

KEYS = {
    "aws_access_key_id": "ASIANEW",
    "aws_secret_access_key": "secret",
    "aws_security_token": None,
}


def _busy_file(count: int) -> str:
    """A credentials file with comments, odd spacing and COUNT profiles."""
    parts = ["# Managed by hand. Do not reorder.\n", "\n"]
    for index in range(count):
        parts.append(f"[profile{index}]  ; trailing comment\n")
        parts.append(f"aws_access_key_id=AKIA{index:016d}\n")
        parts.append(f"aws_secret_access_key = secret{index}   \n")
        parts.append("# note inside the section\n")
        parts.append("\n")
    parts.append(";; last comment, no newline at end")
    return "".join(parts)


def test_new_file_created_private(aws_home: Path) -> None:
    path = aws_home / "credentials"
    awsfiles.update_section(path, "saml", KEYS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(aws_home.stat().st_mode) == 0o700
    assert (
        path.read_text() == "[saml]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret\n"
    )


def test_other_profiles_and_comments_kept(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    original = _busy_file(10)
    path.write_text(original)
    awsfiles.update_section(path, "saml", KEYS)
    text = path.read_text()
    assert text.startswith(original.removesuffix(";; last comment, no newline at end"))
    assert ";; last comment, no newline at end\n" in text
    assert text.endswith("[saml]\naws_access_key_id = ASIANEW\naws_secret_access_key = secret\n")


def test_existing_profile_updated_in_place(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text(
        textwrap.dedent(
            """\
            # top
            [saml]
            # keep me
            aws_access_key_id = OLD
            aws_security_token = STALE
            region_note = x

            [other]
            aws_access_key_id = OTHER
            """
        )
    )
    awsfiles.update_section(path, "saml", KEYS)
    assert path.read_text() == textwrap.dedent(
        """\
        # top
        [saml]
        # keep me
        aws_access_key_id = ASIANEW
        region_note = x
        aws_secret_access_key = secret

        [other]
        aws_access_key_id = OTHER
        """
    )


def test_unchanged_file_not_rewritten(aws_home: Path) -> None:
    path = aws_home / "credentials"
    awsfiles.update_section(path, "saml", KEYS)
    before = path.stat().st_ino
    awsfiles.update_section(path, "saml", KEYS)
    assert path.stat().st_ino == before


def test_newline_in_value_rejected(aws_home: Path) -> None:
    with pytest.raises(FileWriteFailed, match="line break"):
        awsfiles.update_section(aws_home / "credentials", "saml", {"aws_access_key_id": "A\nB"})
    assert not (aws_home / "credentials").exists()


def test_empty_value_rejected(aws_home: Path) -> None:
    with pytest.raises(FileWriteFailed, match="empty value"):
        awsfiles.update_section(aws_home / "config", "profile saml", {"region": ""})


def test_unparsable_file_left_alone(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text("aws_access_key_id = outside any section\n")
    with pytest.raises(FileWriteFailed, match="cannot parse"):
        awsfiles.update_section(path, "saml", KEYS)
    assert path.read_text() == "aws_access_key_id = outside any section\n"


def test_symlinked_file_keeps_link(aws_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "real-credentials"
    target.write_text("[default]\naws_access_key_id = X\n")
    aws_home.mkdir(mode=0o700)
    link = aws_home / "credentials"
    link.symlink_to(target)
    awsfiles.update_section(link, "saml", KEYS)
    assert link.is_symlink()
    assert "[saml]" in target.read_text()


def test_loose_mode_tightened(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text("[default]\n")
    path.chmod(0o644)
    awsfiles.update_section(path, "saml", KEYS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_busy_rename_writes_in_place(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that is itself a bind mount cannot be renamed over (EBUSY)."""
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text("[default]\naws_access_key_id = X\n")
    inode = path.stat().st_ino

    def busy(source: str, destination: str) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(awsfiles.os, "replace", busy)
    awsfiles.update_section(path, "saml", KEYS)
    assert path.stat().st_ino == inode
    assert "[saml]" in path.read_text()
    assert [entry.name for entry in aws_home.iterdir()] == ["credentials"]


def _run_in_read_only_mount(folder: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run SCRIPT with FOLDER bind-mounted read-only in a private mount namespace."""
    shell = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", shell, "sh", str(folder), sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(awsfiles.__file__).parents[1])},
    )


def test_read_only_folder_reported(aws_home: Path) -> None:
    """A read-only ~/.aws: a clear error and the file unchanged."""
    aws_home.mkdir(mode=0o700)
    path = aws_home / "credentials"
    path.write_text("[default]\naws_access_key_id = X\n")
    script = (
        "import sys; from pathlib import Path; from shibaws import awsfiles\n"
        "from shibaws.errors import FileWriteFailed\n"
        "try:\n"
        "    awsfiles.update_section(Path(sys.argv[1]), 'saml', {'aws_access_key_id': 'A'})\n"
        "except FileWriteFailed as error:\n"
        "    print(error); sys.exit(8)\n"
    )
    result = _run_in_read_only_mount(aws_home, script.replace("sys.argv[1]", repr(str(path))))
    assert result.returncode == 8, result.stderr
    assert "Read-only file system" in result.stdout
    assert path.read_text() == "[default]\naws_access_key_id = X\n"


def test_parallel_writers_keep_every_profile(aws_home: Path) -> None:
    path = aws_home / "credentials"
    script = (
        "import sys; from pathlib import Path; from shibaws import awsfiles\n"
        "for n in range(20):\n"
        "    awsfiles.update_section(Path(sys.argv[1]), f'{sys.argv[2]}-{n}',"
        " {'aws_access_key_id': 'A' + str(n)})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(awsfiles.__file__).parents[1])}
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), f"w{index}"], env=env)
        for index in range(4)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    text = path.read_text()
    for index in range(4):
        for n in range(20):
            assert text.count(f"[w{index}-{n}]") == 1


@pytest.mark.parametrize("name", ["", " saml", "a]b", "a\nb", "x[y"])
def test_profile_name_rejected(name: str) -> None:
    with pytest.raises(UsageError, match="invalid profile name"):
        awsfiles.check_profile_name(name)


def test_paths_honour_environment(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/x/creds")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/x/conf")
    assert awsfiles.credentials_path() == Path("/x/creds")
    assert awsfiles.config_path() == Path("/x/conf")


def test_config_section_names() -> None:
    assert awsfiles.config_section("default") == "default"
    assert awsfiles.config_section("saml") == "profile saml"


def test_emptied_section_removed(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text("[a]\nx = 1\n\n[saml]\naws_access_key_id = A\n\n[b]\ny = 2\n")
    awsfiles.update_section(path, "saml", {"aws_access_key_id": None})
    assert path.read_text() == "[a]\nx = 1\n\n[b]\ny = 2\n"


def test_section_with_comment_kept(aws_home: Path) -> None:
    path = aws_home / "credentials"
    aws_home.mkdir(mode=0o700)
    path.write_text("[saml]\n# mine\naws_access_key_id = A\n")
    awsfiles.update_section(path, "saml", {"aws_access_key_id": None})
    assert path.read_text() == "[saml]\n# mine\n"
