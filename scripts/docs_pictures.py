"""The README's pictures and sample reports, from demo data: `python scripts/docs_pictures.py`
(needs Debian's chromium, as the browser tests, and pdftoppm). Writes docs/tableau-de-bord-*.png,
docs/profil-exemple.pdf, docs/rapport-regional-exemple.pdf and their first two pages as PNG."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
EMAIL, PASSWORD = "docs@cisss.example", "Trois pommes vertes au marché!"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/docs.sqlite", "PIN_ENV": "development",
               "SECRET_KEY": "docs"}
        flask = [str(ROOT / ".venv/bin/flask"), "--app", "app"]
        for args in (["db", "upgrade"], ["demo", "--territories", "22", "--years", "4"],
                     ["users", "create", "--email", EMAIL, "--role", "admin", "--password-stdin"]):
            subprocess.run(flask + args, env=env, cwd=ROOT, check=True, capture_output=True,
                           input=(PASSWORD + "\n").encode())
        sample_reports(flask, env, Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(flask + ["run", "--port", str(port)], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)
            base = f"http://127.0.0.1:{port}"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium")
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + "/connexion")
                page.fill("input[name=email]", EMAIL)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                for name, path in (("regional", "/tableau-de-bord"), ("territoire", "/")):
                    if name == "territoire":  # the first territory of the list
                        page.goto(base + path)
                        path = page.evaluate("""() => [...document.querySelectorAll("a[href^='/territoires/']")]
                            .map(a => a.getAttribute('href')).find(h => !h.endsWith('/nouveau'))""")
                        path += "/tableau-de-bord"
                    page.goto(base + path)
                    page.wait_for_function("() => [...document.querySelectorAll('.chart')].every("
                                           "c => c.classList.contains('drawn'))")
                    # The first two charts, with their titles and summaries.
                    blocks = page.locator(".chart-block")
                    top, bottom = blocks.nth(0).bounding_box(), blocks.nth(1).bounding_box()
                    page.screenshot(path=str(ROOT / "docs" / f"tableau-de-bord-{name}.png"), full_page=True,
                                    clip={"x": 0, "y": top["y"] - 16, "width": 1280,
                                          "height": bottom["y"] + bottom["height"] - top["y"] + 32})
                browser.close()
        finally:
            server.terminate()
            server.wait()


def sample_reports(flask: list[str], env: dict, tmp: Path) -> None:
    """The latest finalised profile of Montréal-Nord, and the regional report of Montréal for the
    latest year, each with its first two pages side by side (75 dpi)."""
    from PIL import Image

    with sqlite3.connect(tmp / "docs.sqlite") as conn:
        assessment, year = conn.execute(
            "SELECT a.id, strftime('%Y', a.date) FROM assessment a JOIN territory t ON t.id = a.territory_id "
            "WHERE t.code = 'MONT-NORD' AND a.status = 'finalized' AND a.perspective_id IS NULL "
            "ORDER BY a.date DESC LIMIT 1").fetchone()
    for name, args in (("profil-exemple", ["--assessment", str(assessment)]),
                       ("rapport-regional-exemple", ["--year", year, "--region", "Montréal"])):
        pdf = ROOT / "docs" / f"{name}.pdf"
        subprocess.run(flask + ["report", *args, "-o", str(pdf)], env=env, cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["pdftoppm", "-png", "-r", "75", "-f", "1", "-l", "2", str(pdf), str(tmp / name)], check=True)
        pages = [Image.open(path) for path in sorted(tmp.glob(f"{name}-*.png"))]
        both = Image.new("RGB", (sum(page.width for page in pages), max(page.height for page in pages)), "white")
        for i, page in enumerate(pages):
            both.paste(page, (sum(p.width for p in pages[:i]), 0))
        both.save(ROOT / "docs" / f"{name}-pages-1-2.png", optimize=True)


if __name__ == "__main__":
    sys.exit(main())
