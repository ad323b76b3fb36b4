"""Entry points point numba's cache and the generated kernels to a per-user folder."""

from __future__ import annotations

from pathlib import Path

from energyopt.runtime import configure_caches, user_cache_dir
from plant_models.core.codegen import KERNEL_DIR_ENV, kernel_cache_dir


def test_caches_default_to_the_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv(KERNEL_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    values = configure_caches()
    assert user_cache_dir() == tmp_path / "energyopt"
    assert values == {
        "NUMBA_CACHE_DIR": str(tmp_path / "energyopt" / "numba"),
        KERNEL_DIR_ENV: str(tmp_path / "energyopt" / "kernels"),
    }
    # The model layer writes its generated kernels where the application said.
    assert kernel_cache_dir() == tmp_path / "energyopt" / "kernels"


def test_settings_made_by_the_user_are_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv(KERNEL_DIR_ENV, str(tmp_path / "k"))
    assert configure_caches() == {
        "NUMBA_CACHE_DIR": str(tmp_path / "mine"),
        KERNEL_DIR_ENV: str(tmp_path / "k"),
    }
    assert kernel_cache_dir() == Path(tmp_path / "k")
