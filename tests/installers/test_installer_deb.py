"""The .deb: control fields, desktop entry, package layout; a real dpkg-deb build."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

INSTALLERS = Path(__file__).resolve().parents[2] / "installers"


def _fields(text: str) -> dict[str, str]:
    """Parse one Debian control paragraph (deb-control(5)): key lines and continuations."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith(" "):
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


def test_control_fields(build_deb):
    text = build_deb.control_text("1.2.3", "amd64", 456789)
    assert text.endswith("\n")
    assert "\n\n" not in text  # one paragraph
    fields = _fields(text)
    assert fields["Package"] == "energyopt"
    assert fields["Version"] == "1.2.3"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "456789"
    assert fields["Recommends"] == "fonts-noto-cjk | fonts-wqy-microhei"
    depends = [item.strip() for item in fields["Depends"].split(",")]
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libgl1", "libfontconfig1", "libx11-6"):
        assert package in depends
    summary, *body = fields["Description"].split("\n")
    assert 0 < len(summary) <= 80
    assert body
    assert all(line.startswith(" ") and len(line) <= 80 for line in body)
    for required in ("Maintainer", "Section", "Priority"):
        assert fields[required]


def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(INSTALLERS / "linux" / "energyopt.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "energyopt-gui"
    assert section["Icon"] == "energyopt"
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in section["Comment[zh_CN]"])  # CJK


def _stand_in_bundle(folder):
    folder.mkdir()
    for name in ("energyopt", "energyopt-gui"):
        (folder / name).write_text("#!/bin/sh\necho stand-in\n", encoding="utf-8")
        (folder / name).chmod(0o700)
    (folder / "_internal" / "plant_models").mkdir(parents=True)
    (folder / "_internal" / "plant_models" / "kernels.py").write_text("x = 1\n", encoding="utf-8")
    return folder


def test_stage_lays_out_the_package(build_deb, tmp_path):
    bundle = _stand_in_bundle(tmp_path / "bundle")
    root = build_deb.stage(bundle, tmp_path / "pkg", "0.1.0", "amd64")
    opt = root / "opt" / "energyopt"
    assert (opt / "energyopt-gui").read_text(encoding="utf-8").startswith("#!/bin/sh")
    assert (opt / "energyopt").stat().st_mode & 0o777 == 0o755
    assert (opt / "_internal" / "plant_models" / "kernels.py").stat().st_mode & 0o777 == 0o644
    for name in ("energyopt", "energyopt-gui"):
        launcher = root / "usr" / "bin" / name
        assert f'exec /opt/energyopt/{name} "$@"' in launcher.read_text(encoding="utf-8")
        assert launcher.stat().st_mode & 0o777 == 0o755
    share = root / "usr" / "share"
    assert (share / "applications" / "energyopt.desktop").is_file()
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / "energyopt.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "energyopt.svg").is_file()
    fields = _fields((root / "DEBIAN" / "control").read_text(encoding="utf-8"))
    assert int(fields["Installed-Size"]) >= 1
    prerm = (root / "DEBIAN" / "prerm").read_text(encoding="utf-8")
    assert "find /opt/energyopt -depth -type d -name __pycache__" in prerm


def test_stage_rejects_a_folder_that_is_not_a_bundle(build_deb, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        FileNotFoundError, match="not an energyopt bundle: no energyopt, energyopt-gui"
    ):
        build_deb.stage(tmp_path / "empty", tmp_path / "pkg", "0.1.0", "amd64")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_dpkg_deb_builds_the_package(build_deb, tmp_path, monkeypatch):
    monkeypatch.setenv("ENERGYOPT_DEB_XZ_LEVEL", "0")  # a tiny payload: speed over size
    bundle = _stand_in_bundle(tmp_path / "bundle")
    deb = build_deb.build_deb(bundle, tmp_path / "dist", "0.1.0", work=tmp_path / "work")
    assert deb.name.startswith("energyopt_0.1.0_")
    info = subprocess.run(
        ["dpkg-deb", "--field", str(deb), "Package", "Version", "Recommends"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Package: energyopt" in info
    assert "Recommends: fonts-noto-cjk | fonts-wqy-microhei" in info
    contents = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for path in (
        "./opt/energyopt/energyopt-gui",
        "./usr/bin/energyopt",
        "./usr/share/applications/energyopt.desktop",
    ):
        assert path in contents
    assert "root/root" in contents  # --root-owner-group: no build user's ids in the package
