"""The Windows CI workflow builds the bundle, the NSIS installer, and uploads it."""

from __future__ import annotations

from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "windows-installer.yml"


def test_windows_workflow_builds_tests_and_uploads_the_installer():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = workflow["jobs"]["build"]
    assert job["runs-on"] == "windows-latest"
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert 'pip install -e ".[dist]"' in runs
    assert "installers/build.py --no-deb" in runs
    assert "--smoke" in runs
    assert "installers\\windows\\energyopt.nsi" in runs
    uploads = [
        step for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert len(uploads) == 1
    assert "setup.exe" in uploads[0]["with"]["path"]
