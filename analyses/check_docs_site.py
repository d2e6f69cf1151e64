"""Look at the documentation site as a reader would: every page in headless Chromium, served on 127.0.0.1.

Run from the repository root after ``make docs``::

    .venv/bin/python analyses/check_docs_site.py [--out /tmp/docs-shots]

Serves ``site/`` on a free port of the loopback interface (Material's search needs a
server), opens every page in headless Chromium 1,280 px wide (``render_in_chromium``),
and prints per page: broken images, console errors, horizontal overflow, the words of
its main text and its links in the navigation; for the API reference, the documented
objects. A full-page screenshot of each page goes to ``--out``. The exit status is 1
when a page has a broken image or a console error, or an API page documents nothing.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import threading
import time
from pathlib import Path

from laborseq.report.browser import render_in_chromium

SITE = Path("site")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the pages are checked, not the requests
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/docs-shots", help="folder of the screenshots")
    args = parser.parse_args()
    if not (SITE / "index.html").exists():
        sys.exit("no site/index.html: run make docs first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    pages = sorted(p.relative_to(SITE).parent.as_posix() for p in SITE.glob("**/index.html"))
    failed = 0
    started = time.perf_counter()
    print(f"{'page':<24} {'words':>7} {'nav links':>9} {'broken':>6} {'errors':>6}  width")
    for page in pages:
        html = (SITE / page / "index.html").read_text()
        main_text = re.sub(r"<[^>]+>", " ", html.split('<article class="md-content__inner', 1)[-1])
        words = len(re.findall(r"\w+", main_text.split("</article>", 1)[0]))
        nav = len(re.findall(r'class="md-nav__link', html))
        name = page if page != "." else "(home)"
        shot = Path(args.out) / f"{name.replace('/', '_')}.png"
        check = render_in_chromium(base + ("" if page == "." else page + "/"), shot)
        width = "fits" if not check.overflows else f"overflows ({check.scroll_width} px)"
        print(f"{name:<24} {words:>7,} {nav:>9} {len(check.broken_images):>6} {len(check.console_errors):>6}  {width}")
        for message in check.console_errors:
            print(f"    console: {message[:200]}")
        failed += bool(check.broken_images or check.console_errors)
        if page == "api":
            objects = len(re.findall(r'class="doc doc-heading"', html))
            print(f"    API reference: {objects} documented objects (classes, functions, methods, attributes)")
            failed += objects < 50
    server.shutdown()
    print(f"{len(pages)} pages in {time.perf_counter() - started:.0f} s; screenshots in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
