"""Every environment variable the settings read is documented and listed in .env.example."""

import re
from pathlib import Path

import undersign

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [Path(undersign.__file__).parent / "settings.py", Path(undersign.__file__).parent / "core" / "keys.py"]


def variables_read() -> set[str]:
    names: set[str] = set()
    for source in SOURCES:
        text = source.read_text()
        names |= set(re.findall(r'env_(?:str|int|bool|float|list|choice|raw|witnesses)\(\s*"([A-Z_]+)"', text))
    return names


def test_the_settings_read_the_variables_we_expect():
    assert {"DATABASE_URL", "EMAIL_URL", "UNDERSIGN_DATA_DIR", "SECRET_KEY", "SPONSORS_REQUIRED"} <= variables_read()


def test_every_variable_is_documented():
    documented = set(re.findall(r"^\| `([A-Z_]+)`", (ROOT / "docs" / "settings.md").read_text(), re.M))
    assert variables_read() - documented == set()


def test_every_variable_is_in_env_example():
    listed = set(re.findall(r"^# ([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert variables_read() - listed == set()
