"""Screenshot of the web chat's Articles tab after an upload -> docs/articles.png (`make screenshots`).

Serves the real engine over a copy of corpus/ with its index in a temporary folder (the project's corpus and
index are not touched), uploads one article and two files that are refused, and photographs the tab.
Uses Debian's chromium through Playwright; nothing is downloaded.
"""
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import app  # noqa: E402
import rag  # noqa: E402

ARTICLE = (
    "Oslo opens a harbour bath heated by a data centre\n\nBy Ann Lee\n\n2024-02-01\n\n"
    "OSLO — The city opened a public harbour bath on Thursday whose water is warmed by waste heat from a nearby "
    "data centre. The bath keeps the water at 24 degrees all winter, the operator said.\n\n"
    "The city council said the heat would otherwise have been released into the fjord.\n"
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(out: Path = PROJECT / "docs" / "articles.png") -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(PROJECT / "corpus", root / "corpus")
        config = replace(rag.Config().with_env(), corpus_dir=root / "corpus", index_dir=root / "index")
        demo = app.create_app(rag.Pipeline(config))
        _, url, _ = app.launch(demo, port=free_port(), block=False)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(url)
                page.wait_for_selector("#rag-status >> text=Models loaded", timeout=600_000)
                page.get_by_role("tab", name="Articles").click()
                page.wait_for_selector("#rag-articles tbody tr")
                page.locator("#rag-upload input[type=file]").set_input_files([
                    {"name": "harbour_bath.txt", "mimeType": "text/plain", "buffer": ARTICLE.encode()},
                    {"name": "../../etc/profile.txt", "mimeType": "text/plain", "buffer": b"export X=1"},
                    {"name": "scan.txt", "mimeType": "text/plain", "buffer": b"%PDF-1.7\n\x00\x01"},
                ])
                page.wait_for_selector("#rag-report .rag-build", timeout=600_000)
                page.wait_for_function("() => document.querySelector('#rag-summary').innerText.startsWith('6 articles')")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=True)
                browser.close()
        finally:
            demo.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
