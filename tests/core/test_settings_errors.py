"""Settings errors told as rules errors are: the file, the line, the key, and what to write,
with the closest valid key for a misspelt one."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings
from sereno.cli import main


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sereno.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_misspelt_key_is_named_with_its_line_and_the_closest_valid_key(tmp_path: Path) -> None:
    path = _config(tmp_path, "timezone: Europe/Madrid\nlangauge: es\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"{path}:2: langauge: unknown key 'langauge'")
    assert "(did you mean 'language'?)" in line
    assert "the keys here are: listen, data_dir, " in line
    assert "Extra inputs" not in line


def test_nested_keys_and_values_are_located_and_sorted_by_line(tmp_path: Path) -> None:
    path = _config(tmp_path, "listen: nope\nnotify:\n  timeout_s: 5\n  max_atempts: 3\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    first, second = str(raised.value).splitlines()
    assert first == f"{path}:1: listen: write HOST:PORT, for example 127.0.0.1:8080"
    assert second.startswith(f"{path}:4: notify.max_atempts: unknown key 'max_atempts'")
    assert "(did you mean 'max_attempts'?)" in second


def test_a_wrong_type_says_what_to_write(tmp_path: Path) -> None:
    path = _config(tmp_path, "language: en\nnotify:\n  timeout_s: soon\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert str(raised.value).startswith(f"{path}:3: notify.timeout_s: ")
    assert "write a number" in str(raised.value)


def test_a_command_line_value_is_blamed_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^command line: --listen: write HOST:PORT"):
        load_settings(_config(tmp_path, "language: en\n"), listen="nope")


def test_rules_check_prints_it_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, "langauge: es\n")
    assert main(["rules", "check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: langauge: unknown key 'langauge'" in err
