"""The package as the Docker image installs it (`pip install .` from the files the Dockerfile
copies) carries every file the service reads at run time: templates, migrations, the Alembic
script template, not only the Python modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from zipfile import ZipFile

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("pyproject.toml", "README.md", "app", "webhooks")  # the Dockerfile's build stage


def _source_files() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in ("app", "webhooks")
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_file_of_the_packages(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in COPIED:  # a copy: an in-tree build/ directory could hold stale files
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source,
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("wardbot-*.whl")
    packaged = set(ZipFile(wheel).namelist())
    expected = _source_files()
    assert any(name.endswith(".html") for name in expected)
    assert any("/migrations/versions/" in name for name in expected)
    assert sorted(expected - packaged) == []
