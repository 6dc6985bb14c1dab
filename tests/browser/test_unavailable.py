"""Without Chromium or Playwright the reader says what to install; streamprobe never needs Playwright
to import (the canary Lambda runs it without Playwright). These tests start no browser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamprobe.browser import BrowserSession, BrowserUnavailable, check_browser, chromium_path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )


def test_missing_chromium_is_named_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMPROBE_CHROMIUM", "/nonexistent/chromium")
    assert chromium_path() == "/nonexistent/chromium"
    with pytest.raises(
        BrowserUnavailable, match=r"Chromium not found at /nonexistent/chromium .*apt-get install chromium"
    ):
        check_browser()
    with pytest.raises(BrowserUnavailable):
        BrowserSession()


def test_default_chromium_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMPROBE_CHROMIUM", raising=False)
    assert chromium_path() == "/usr/bin/chromium"


def test_streamprobe_imports_without_playwright() -> None:
    proc = run_python(
        "import sys; sys.modules['playwright'] = None\n"
        "import streamprobe, streamprobe.probing, streamprobe.browser\n"
        "from streamprobe.browser import BrowserUnavailable, check_browser\n"
        "try:\n"
        "    check_browser()\n"
        "except BrowserUnavailable as exc:\n"
        "    print('UNAVAILABLE:', exc)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "UNAVAILABLE: Playwright for Python is not installed" in proc.stdout
    assert "pip install 'streamprobe[browser]'" in proc.stdout


def test_probe_does_not_load_playwright() -> None:
    proc = run_python(
        "import sys, streamprobe, streamprobe.probing, streamprobe.browser\n"
        "print('playwright' in sys.modules)"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
