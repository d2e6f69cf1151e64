"""The HTML comparison report in a real browser: headless Chromium renders every figure, logs no error.

Needs Selenium (``pip install 'laborseq[browser]'``) and the Debian packages
``chromium`` and ``chromium-driver``; skipped otherwise. Run with
``pytest -m slow tests/test_report_browser.py``. Set ``LABORSEQ_SCREENSHOT_DIR``
to keep the full-page screenshot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from laborseq.report.browser import find_chromium, render_in_chromium

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser() -> tuple[Path, Path]:
    pytest.importorskip("selenium", reason="needs Selenium: pip install 'laborseq[browser]'")
    found = find_chromium()
    if found is None:
        pytest.skip(
            "needs Chromium and ChromeDriver (Debian packages chromium, chromium-driver, "
            "or LABORSEQ_CHROMIUM / LABORSEQ_CHROMEDRIVER)"
        )
    return found


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    from laborseq.datasets import load_nlswork
    from laborseq.pipeline import run_comparison, write_report

    study = run_comparison(
        load_nlswork(),
        ["marginal", "markov1", "markov2"],
        sample_persons=300,
        n_boot=50,
        forecast_origin=1980,
        forecast_models=["markov1"],
        forecast_samples=50,
        command="pytest tests/test_report_browser.py",
    )
    out = tmp_path_factory.mktemp("browser") / "report"
    write_report(study, out)
    return out


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000, f"screenshot {path} is nearly empty ({len(data)} bytes)"
    assert data.startswith(PNG_SIGNATURE), f"screenshot {path} is not a PNG"


def test_comparison_report_renders_in_chromium(browser, report_dir, tmp_path):
    shot = tmp_path / "report.png"
    check = render_in_chromium(report_dir / "report.html", shot, width=1280, binaries=browser)

    pngs = sorted((report_dir / "figures").glob("*.png"))
    assert pngs, "the report wrote no figure"
    assert check.n_images == check.n_figures == len(pngs), check.format()
    assert check.broken_images == (), check.format()
    assert check.console_errors == (), check.format()
    assert check.title.strip(), "the page has no title"
    assert check.viewport_width == 1280, check.format()
    assert check.scroll_width <= check.viewport_width, check.format()
    assert check.overflowing == (), check.format()
    assert check.ok, check.format()
    assert check.screenshot == shot
    _assert_png(shot)
    assert check.page_height > 900, "the screenshot should cover the whole page, not the first screen"

    keep = os.environ.get("LABORSEQ_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(shot, Path(keep) / "comparison-report.png")


def test_the_check_detects_broken_images_and_console_errors(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>broken</title></head><body>\n'
        '<figure><img src="data:image/png;base64,AAAA" alt="broken figure"><figcaption>x</figcaption></figure>\n'
        '<div style="width: 3000px">too wide</div>\n'
        "<script>console.error('boom')</script>\n"
        "</body></html>\n"
    )
    check = render_in_chromium(page, tmp_path / "broken.png", binaries=browser)
    assert check.n_images == check.n_figures == 1
    assert check.broken_images == ("broken figure",)
    assert check.n_broken_images == 1
    assert any("boom" in message for message in check.console_errors), check.console_messages
    assert check.overflows and check.scroll_width > check.viewport_width
    assert check.overflowing and "div" in check.overflowing[0]
    assert not check.ok
    _assert_png(tmp_path / "broken.png")
