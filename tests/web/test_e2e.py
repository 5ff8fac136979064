"""The web app in a real browser against a running ``ayka up``: headless Chromium (Debian package, driven
by playwright-core) with the sample clip as the fake microphone. The browser script is web/e2e/run.mjs
(``npm --prefix web run test:e2e`` with AYKA_BASE_URL); it saves a screenshot of every page state it
checks, and this test asserts that every one of them was taken.

The platform allows private webhook URLs (AYKA_WEBHOOK_ALLOW_PRIVATE=true): the script's endpoint is
http://127.0.0.1:9/hook, a closed local port, since nothing public can be reached here (and a real host
would receive the test's events). Its deliveries fail, which is what the delivery log is checked for."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ayka.runtime.process import free_port
from tests.data.clips import _pyannote_sample_dir
from tests.fixtures.up import Up

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"

READY_S = 180  # Up.wait_ready's default
BROWSER_S = 420  # run.mjs: about 2 min on 2 cores; its bounded waits add up to less than this
STOP_S = 60  # Up.stop waits this long for ``ayka up`` to exit
# Longer than pyproject's 300 s default, which a slow (but passing) start plus browser run can exceed.
pytestmark = pytest.mark.timeout(READY_S + BROWSER_S + STOP_S + 60)

SCREENSHOTS = [
    "01-signup",
    "01b-webhook-added",
    "02-live",
    "03-live-recording",
    "04-live-stopped",
    "05-sessions",
    "06-session-detail",
    "06b-session-seek",
    "07-leads",
    "08-events",
    "09-settings",
    "10-login",
    "11-phone-session",
    "12-phone-live",
    "13-settings-key-created",
    "14-settings-key-revoked",
    "15-webhook-secret-rotated",
    "16-webhook-deliveries",
    "17-session-speaker-renamed",
    "18-session-retitled",
    "19-session-leads",
    "20-sessions-search",
    "21-sessions-search-none",
    "22-sessions-after-delete",
]


def test_sign_up_record_see_captions_and_find_the_session_in_a_real_browser() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "Chromium is missing: `make test` installs it (apt-get install chromium)"
    assert (WEB / "out" / "index.html").exists(), "the web UI is not built: `make web`"
    root = Path(tempfile.mkdtemp(prefix="ayka-test-e2e-"))
    up = Up(
        root / "data",
        free_port(),
        AYKA_DIARIZE_BACKEND="offline",
        AYKA_WEB_DIR=str(WEB / "out"),
        AYKA_WEBHOOK_ALLOW_PRIVATE="true",
    )
    try:
        up.wait_ready(READY_S)
        results = WEB / "test-results"
        shutil.rmtree(results, ignore_errors=True)
        audio = _pyannote_sample_dir() / "sample.wav"
        env = dict(os.environ, AYKA_BASE_URL=up.base_url, AYKA_E2E_AUDIO=str(audio))
        run = subprocess.run(
            ["npm", "--prefix", str(WEB), "run", "test:e2e"],
            env=env,
            capture_output=True,
            text=True,
            timeout=BROWSER_S,
        )
        print(run.stdout)  # the step log, with timings: shown for a failure, or with -rP
        assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
        shots = sorted(p.stem for p in results.glob("*.png"))
        missing, extra = sorted(set(SCREENSHOTS) - set(shots)), sorted(set(shots) - set(SCREENSHOTS))
        assert shots == SCREENSHOTS, f"screenshots missing: {missing}; unexpected: {extra}"
    finally:
        up.stop()
        shutil.rmtree(root, ignore_errors=True)
