"""Open an HTML report in headless Chromium, check it and save a full-page screenshot.

Run from the repository root::

    .venv/bin/python analyses/screenshot_report.py REPORT.html OUT.png [--width 1280]

for example::

    .venv/bin/python analyses/screenshot_report.py reports/nlswork/report.html /tmp/report-shots/nlswork.png

It loads the page in a window ``--width`` CSS pixels wide (default 1280), checks
that every image decoded and is displayed, reads the browser console, measures
whether the page is wider than the window, prints these checks and writes a
PNG screenshot of the whole page. The exit status is 1 when an image is broken
or the console logged an error, 0 otherwise (horizontal overflow is reported
but does not fail). Needs Selenium (``pip install 'laborseq[browser]'``) and the
Debian packages ``chromium`` and ``chromium-driver`` (or ``LABORSEQ_CHROMIUM``
and ``LABORSEQ_CHROMEDRIVER`` naming the executables).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from laborseq.report.browser import render_in_chromium


def main(argv: Sequence[str] | None = None) -> int:
    """Check one report; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", help="the HTML report to open")
    parser.add_argument("screenshot", help="where to write the full-page PNG screenshot")
    parser.add_argument("--width", type=int, default=1280, help="window width in CSS pixels (default 1280)")
    args = parser.parse_args(argv)
    try:
        check = render_in_chromium(args.html, args.screenshot, width=args.width)
    except (ImportError, FileNotFoundError) as err:
        print(f"screenshot_report: {err}", file=sys.stderr)
        return 2
    print(check.format())
    if check.broken_images or check.console_errors:
        print("FAILED: broken images or console errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
