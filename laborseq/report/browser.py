"""Open a report in headless Chromium: do the figures render, is the console clean?

The HTML reports are self-contained pages meant to be opened in a browser, so
the strongest check that one works is to open it in a real browser. This
module drives headless Chromium through Selenium (an optional dependency:
``pip install 'laborseq[browser]'``) and the system's ``chromium`` and
``chromedriver`` (Debian packages ``chromium`` and ``chromium-driver``), and
returns what a reader would see: which images failed to decode or are
collapsed to zero width, what the page logged as an error, whether the page is
wider than the window, plus a full-page screenshot.

Examples
--------
>>> from laborseq.report.browser import find_chromium, render_in_chromium
>>> if find_chromium() is not None:  # doctest: +SKIP
...     check = render_in_chromium("reports/nlswork/report.html", "shot.png")
...     assert check.ok, check.format()
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BrowserCheck", "find_chromium", "render_in_chromium"]

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
_CHROMEDRIVER_NAMES = ("chromedriver",)
_CHROMEDRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")

# Headless and quiet: no GPU, no sandbox (containers), and none of the background
# traffic (updates, sync, QUIC probes) that floods the log where the network is closed.
_CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

# One pass over the page, run inside the browser once every image has settled.
_INSPECT_JS = """
const viewport = window.innerWidth;
const clientWidth = document.documentElement.clientWidth;
const images = Array.from(document.images).map((img, i) => ({
    label: img.alt || img.getAttribute('src').slice(0, 40) || `image ${i + 1}`,
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    width: img.getBoundingClientRect().width,
}));
function clipped(el) {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
}
function describe(el) {
    let text = el.tagName.toLowerCase();
    if (el.id) text += '#' + el.id;
    if (el.classList.length) text += '.' + Array.from(el.classList).join('.');
    const caption = el.querySelector && el.querySelector(':scope > caption, :scope > figcaption');
    const label = (caption ? caption.textContent : el.textContent || el.alt || '').trim().replace(/\\s+/g, ' ');
    return text + ' (' + Math.round(el.getBoundingClientRect().right) + ' px) ' + label.slice(0, 60);
}
const overflowing = Array.from(document.body.querySelectorAll('*'))
    .filter(el => el.getBoundingClientRect().right > clientWidth + 0.5 && !clipped(el))
    .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right <= clientWidth + 0.5
                  || el.parentElement === document.body)
    .map(describe);
return {
    title: document.title,
    images: images,
    nFigures: document.querySelectorAll('figure').length,
    scrollWidth: document.documentElement.scrollWidth,
    viewportWidth: viewport,
    overflowing: overflowing,
    height: Math.max(document.body.scrollHeight, document.documentElement.scrollHeight),
};
"""


@dataclass(frozen=True)
class BrowserCheck:
    """What headless Chromium saw when it opened a page.

    Attributes
    ----------
    html_path : Path
        The page that was opened.
    screenshot : Path
        The full-page PNG screenshot written.
    title : str
        The page's ``<title>``.
    n_images : int
        Number of ``<img>`` elements.
    n_figures : int
        Number of ``<figure>`` elements.
    broken_images : tuple of str
        Alt texts (or source prefixes) of images that did not load, did not
        decode (``naturalWidth == 0``) or are displayed zero pixels wide.
    console_errors : tuple of str
        Browser-log entries of level ``SEVERE`` (JavaScript errors,
        ``console.error``, failed loads).
    console_messages : tuple of str
        Every browser-log entry, ``"LEVEL: message"``.
    scroll_width : int
        ``document.documentElement.scrollWidth`` at the requested width.
    viewport_width : int
        ``window.innerWidth`` at the requested width.
    overflowing : tuple of str
        Outermost elements whose right edge lies beyond the viewport and which
        are not inside a scrolling or clipping container (empty when the page
        fits), described as ``tag (right edge px) text``.
    page_height : int
        Height of the whole page in CSS pixels (the screenshot's height).
    """

    html_path: Path | str
    screenshot: Path
    title: str
    n_images: int
    n_figures: int
    broken_images: tuple[str, ...]
    console_errors: tuple[str, ...]
    console_messages: tuple[str, ...]
    scroll_width: int
    viewport_width: int
    overflowing: tuple[str, ...]
    page_height: int

    @property
    def n_broken_images(self) -> int:
        """Number of broken images."""
        return len(self.broken_images)

    @property
    def overflows(self) -> bool:
        """Whether the page is wider than the window (it scrolls horizontally)."""
        return self.scroll_width > self.viewport_width

    @property
    def ok(self) -> bool:
        """No broken image, no console error, a title and no horizontal overflow."""
        return not self.broken_images and not self.console_errors and bool(self.title) and not self.overflows

    def format(self) -> str:
        """A short human-readable summary, one check per line."""
        lines = [
            f"page:           {self.html_path}",
            f"title:          {self.title!r}",
            f"images:         {self.n_images} ({self.n_figures} <figure> elements)",
            f"broken images:  {self.n_broken_images}" + "".join(f"\n  - {alt}" for alt in self.broken_images),
            f"console errors: {len(self.console_errors)}" + "".join(f"\n  - {m}" for m in self.console_errors),
            f"width:          scrollWidth {self.scroll_width} px, viewport {self.viewport_width} px"
            + (" (overflows)" if self.overflows else " (fits)"),
        ]
        lines += [f"  - too wide: {element}" for element in self.overflowing]
        lines.append(f"screenshot:     {self.screenshot} ({self.viewport_width} x {self.page_height} px)")
        return "\n".join(lines)


def _first_existing(env: str, names: tuple[str, ...], paths: tuple[str, ...]) -> Path | None:
    override = os.environ.get(env)
    if override:
        path = Path(override).expanduser()
        return path if path.is_file() else None
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    for candidate in paths:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def find_chromium() -> tuple[Path, Path] | None:
    """Locate Chromium and its matching ChromeDriver.

    The environment variables ``LABORSEQ_CHROMIUM`` and ``LABORSEQ_CHROMEDRIVER``
    name the executables explicitly (when set, nothing else is tried for that
    executable); otherwise ``chromium`` (or ``chromium-browser``,
    ``google-chrome``) and ``chromedriver`` are looked up on ``PATH`` and in
    Debian's install locations.

    Returns
    -------
    tuple of Path or None
        ``(chromium, chromedriver)`` when both exist, else None.
    """
    chromium = _first_existing("LABORSEQ_CHROMIUM", _CHROMIUM_NAMES, _CHROMIUM_PATHS)
    chromedriver = _first_existing("LABORSEQ_CHROMEDRIVER", _CHROMEDRIVER_NAMES, _CHROMEDRIVER_PATHS)
    if chromium is None or chromedriver is None:
        return None
    return chromium, chromedriver


def render_in_chromium(
    html_path: str | Path,
    screenshot_path: str | Path,
    *,
    width: int = 1280,
    height: int = 900,
    timeout: float = 60.0,
    binaries: tuple[Path, Path] | None = None,
) -> BrowserCheck:
    """Open a local HTML page (or a page served on this machine) in headless Chromium, inspect it and screenshot it.

    The page is loaded in a window ``width`` CSS pixels wide; once every image
    has finished loading, the images, ``<figure>`` elements, title and
    horizontal extent are measured and the browser log is read. The window is
    then made as tall as the page and a full-page screenshot is saved. A fresh,
    temporary Chromium profile is used and removed afterwards, and the browser
    is always shut down.

    Parameters
    ----------
    html_path : path-like or str
        The HTML file to open, or an ``http://127.0.0.1:...`` address of a page served locally
        (a documentation site, whose search needs a server).
    screenshot_path : path-like
        Where to write the PNG screenshot (parent directories are created).
    width : int, default 1280
        Viewport width in CSS pixels (the device scale factor is 1).
    height : int, default 900
        Viewport height while the page loads; the screenshot uses the page's
        full height.
    timeout : float, default 60
        Seconds to wait for the page and its images to load.
    binaries : tuple of Path, optional
        ``(chromium, chromedriver)``; found with :func:`find_chromium` if omitted.

    Returns
    -------
    BrowserCheck
        What the browser saw; see :attr:`BrowserCheck.ok`.

    Raises
    ------
    ImportError
        If Selenium is not installed.
    FileNotFoundError
        If the page, Chromium or ChromeDriver cannot be found.
    """
    try:  # Selenium is an optional dependency (laborseq[browser]), imported only to take screenshots
        from selenium import webdriver  # noqa: PLC0415
        from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
        from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "render_in_chromium needs Selenium: pip install 'laborseq[browser]' "
            "(and the chromium and chromium-driver system packages)"
        ) from err

    served = isinstance(html_path, str) and html_path.startswith(("http://127.0.0.1", "http://localhost"))
    page = Path(html_path).resolve() if not served else None
    if page is not None and not page.is_file():
        raise FileNotFoundError(f"no such HTML file: {page}")
    binaries = binaries or find_chromium()
    if binaries is None:
        raise FileNotFoundError(
            "Chromium and ChromeDriver not found: install the Debian packages chromium and chromium-driver, "
            "or set LABORSEQ_CHROMIUM and LABORSEQ_CHROMEDRIVER"
        )
    chromium, chromedriver = binaries
    shot = Path(screenshot_path)
    shot.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="laborseq-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(chromium)
        for flag in _CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(str(chromedriver)), options=options)
        try:
            driver.set_page_load_timeout(timeout)
            _set_viewport(driver, width, height)
            driver.get(str(html_path) if page is None else page.as_uri())
            WebDriverWait(driver, timeout).until(
                lambda d: d.execute_script(
                    "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"
                )
            )
            seen = driver.execute_script(_INSPECT_JS)
            log = driver.get_log("browser")
            page_height = int(seen["height"])
            _set_viewport(driver, width, page_height)
            if not driver.save_screenshot(str(shot)):
                raise RuntimeError(f"Chromium could not write the screenshot {shot}")
        finally:
            driver.quit()

    broken = tuple(
        str(img["label"])
        for img in seen["images"]
        if not img["complete"] or img["naturalWidth"] <= 0 or img["width"] <= 0
    )
    return BrowserCheck(
        html_path=page if page is not None else str(html_path),
        screenshot=shot,
        title=str(seen["title"]),
        n_images=len(seen["images"]),
        n_figures=int(seen["nFigures"]),
        broken_images=broken,
        console_errors=tuple(str(entry["message"]) for entry in log if entry.get("level") == "SEVERE"),
        console_messages=tuple(f"{entry.get('level')}: {entry.get('message')}" for entry in log),
        scroll_width=int(seen["scrollWidth"]),
        viewport_width=int(seen["viewportWidth"]),
        overflowing=tuple(str(element) for element in seen["overflowing"]),
        page_height=page_height,
    )


def _set_viewport(driver: object, width: int, height: int) -> None:
    """Resize the window so that the viewport (not the outer window) is ``width`` x ``height``."""
    driver.set_window_size(width, height)  # type: ignore[attr-defined]
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")  # type: ignore[attr-defined]
    extra_w, extra_h = width - int(inner[0]), height - int(inner[1])
    if extra_w or extra_h:
        driver.set_window_size(width + extra_w, height + extra_h)  # type: ignore[attr-defined]
