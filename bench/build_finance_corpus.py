"""Build bench/corpus/coherent_finance.jsonl.gz: coherent sections from the READMEs of Python finance packages.

A tenth coherent set, built blind (the detector was never run on it), from text like the blog posts and
newsletters the tool's users write about markets and money: the Markdown READMEs of Python packages for market
data, trading, backtesting, technical indicators and portfolios, dense with tickers (AAPL, MSFT, SPY, BTC/USDT),
prices, returns, percentages, dates and amounts, with tables, code and install commands. Source: PyPI, through
pip, for a fixed list of packages named here (no crawl, no dependencies followed), each at the version pip gave
on 2026-12-07, pinned in PACKAGES: `pip download --no-deps --no-binary :none: -d CACHE NAME==VERSION` (a wheel
where there is one, else the sdist), and the README is the long description in the wheel's METADATA or the
sdist's PKG-INFO (core metadata, email-header format: the body after the headers, or the Description field).
Used (version, licence as recorded): alpaca-py 0.44.0 (Apache Software License), alpha-vantage 3.0.0 (MIT License),
backtesting 0.6.6 (GNU Affero General Public License v3 or later (AGPLv3+)), ccxt 4.5.90 (MIT), exchange-calendars
4.13.2 (Apache-2.0), financedatabase 2.5.1 (MIT License), finnhub-python 2.4.29 (Apache-2.0), finta 1.3 (LGPLv3+),
freqtrade 2026.9 (GNU General Public License v3 (GPLv3)), investpy 1.0.8 (MIT License), lumibot 4.6.30 (GNU General
Public License v3 (GPLv3)), mplfinance 0.12.10b0 (BSD License), openbb 5.0.0 (Apache-2.0), pyportfolioopt 1.6.0 (MIT
License), quantstats 0.0.86 (Apache-2.0), riskfolio-lib 7.4.0 (BSD (3-clause)), stockstats 0.6.10 (BSD-3-Clause),
tradingview-ta 3.3.0 (MIT License), yahooquery 2.4.1 (MIT), yfinance 1.7.0 (Apache Software License),
zipline-reloaded 3.2.1 (Apache-2.0).
Fetched and skipped by the rules below: alpaca-trade-api 3.2.0 and vectorbt 1.2.0 (no licence stated), fredapi
0.5.2 (no content type, no licence), empyrical 0.5.5 and ta 0.11.0 (sdists whose description is one line, no
content type), polygon-api-client 1.16.3 (no description), pandas-ta 0.4.71b0 (81 words, no licence; its releases
require Python 3.12, so it is fetched as for 3.12). Not fetched: pandas-datareader (its README is already in
coherent_pypi), and the rest of the candidates considered (ffn, bt, pyfolio, backtrader, python-binance, ib_insync,
pandas-market-calendars, forex-python, QuantLib), left out to keep the list short.

Rules, as for the PyPI set (bench/build_pypi_corpus.py, whose functions are reused):
- only READMEs whose Description-Content-Type is text/markdown, of 150+ words (reStructuredText, plain text
  and READMEs with no content type are skipped, not converted);
- the licence is the License-Expression, else the first specific licence classifier, else the License field
  (a whole pasted licence text recorded as the licence it is recognised as); packages that state none, or a
  proprietary one or terms of service, are skipped; each item records its package's;
- packages whose README is already in coherent_real.jsonl.gz or coherent_pypi.jsonl.gz are skipped;
- HTML blocks, HTML comments and badge or image lines are dropped (build_npm_corpus's draft_like, after
  build_pypi_corpus's tags_joined); everything else is kept as written;
- sections are cut by bench/build_coherent_corpus.py's rules (150-600 words, at headings, then blank lines,
  never inside a fence) and get its shapes; its near-duplicate filter drops anything sharing over half its
  6-word shingles with a section of the older coherent sets or one kept before;
- at most 8 sections per package: where a README gives more, table and numbers sections are taken first, then
  the rest in document order;
- split by a hash of the package name (`finance:<normalized name>`, build_coherent_corpus.split_of):
  calibration 50%, held-out 25%, reserve 25%.
Every item carries `batch: "finance-readmes"`, `source: "pypi-readme"`. The downloaded files are kept in --cache,
so a rebuild needs no network and gives the same bytes (gzip without time stamp, build_debprose_corpus's
write_corpus).
Usage: python bench/build_finance_corpus.py [--cache DIR] [--out FILE]"""

from __future__ import annotations

import argparse
import email.parser
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

from build_coherent_corpus import ROOT, NearDuplicates, split_of
from build_debprose_corpus import write_corpus
from build_pypi_corpus import is_markdown, licence_of, normalized, older_readme_packages, readme_sections
from collapse import coherent_items

PACKAGES = (("yfinance", "1.7.0"), ("mplfinance", "0.12.10b0"), ("backtesting", "0.6.6"), ("vectorbt", "1.2.0"),
            ("pandas-ta", "0.4.71b0"), ("finta", "1.3"), ("ta", "0.11.0"), ("stockstats", "0.6.10"),
            ("quantstats", "0.0.86"), ("empyrical", "0.5.5"), ("alpaca-py", "0.44.0"), ("alpaca-trade-api", "3.2.0"),
            ("ccxt", "4.5.90"), ("freqtrade", "2026.9"), ("finnhub-python", "2.4.29"), ("alpha-vantage", "3.0.0"),
            ("polygon-api-client", "1.16.3"), ("yahooquery", "2.4.1"), ("riskfolio-lib", "7.4.0"),
            ("PyPortfolioOpt", "1.6.0"), ("financedatabase", "2.5.1"), ("fredapi", "0.5.2"),
            ("exchange-calendars", "4.13.2"), ("tradingview-ta", "3.3.0"), ("lumibot", "4.6.30"), ("investpy", "1.0.8"),
            ("zipline-reloaded", "3.2.1"), ("openbb", "5.0.0"))
PYTHON_VERSION = {"pandas-ta": "3.12"}  # its releases require Python 3.12+: pip would find none for this venv's 3.11
SECTIONS_PER_PACKAGE = 8
BATCH = "finance-readmes"
OLDER_README_BATCH = "pypi-readmes"


def _distribution(path: Path) -> tuple[str, str] | None:
    """(normalized name, version) of a wheel or sdist file name."""
    if path.name.endswith(".whl"):
        name, version = path.name.split("-")[:2]
        return normalized(name), version
    for suffix in (".tar.gz", ".zip"):
        if path.name.endswith(suffix):
            name, _, version = path.name.removesuffix(suffix).rpartition("-")
            return normalized(name), version
    return None


def archive(name: str, version: str, cache: Path) -> Path | None:
    """The wheel (else the sdist) of name==version in the cache, downloaded by pip if not there yet."""

    def cached() -> list[Path]:
        return [path for path in sorted(cache.iterdir()) if _distribution(path) == (normalized(name), version)]

    if not cached():
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":none:",
                   "-d", str(cache), f"{name}=={version}"]
        if name in PYTHON_VERSION:
            command += ["--python-version", PYTHON_VERSION[name]]
        subprocess.run(command, check=False)
    return min(cached(), key=lambda path: (not path.name.endswith(".whl"), path.name), default=None)


def core_metadata(path: Path) -> str:
    """The wheel's .dist-info/METADATA, or the sdist's top-level PKG-INFO."""
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.rsplit("/", 1)[-1] == "PKG-INFO"]
            member = min(members, key=lambda m: (m.name.count("/"), m.name))
            handle = tar.extractfile(member)
            assert handle is not None
            return handle.read().decode("utf-8", "replace")
    with zipfile.ZipFile(path) as zipped:  # a wheel, or a .zip sdist
        wanted = ".dist-info/METADATA" if path.name.endswith(".whl") else "PKG-INFO"
        names = [n for n in zipped.namelist() if n.rsplit("/", 1)[-1] == wanted or n.endswith(wanted)]
        return zipped.read(min(names, key=lambda n: (n.count("/"), n))).decode("utf-8", "replace")


def info_of(metadata: str) -> dict:
    """The fields of the PyPI JSON API's `info` that build_pypi_corpus reads, from core metadata: the README is the
    body after the headers (Metadata-Version 2.1+) or the Description field, its continuation lines unindented."""
    message = email.parser.Parser().parsestr(metadata)
    description = str(message.get_payload() or "")
    if not description.strip():
        first, *rest = str(message.get("Description") or "").split("\n")
        description = "\n".join([first, *(re.sub(r"^( {7}\|| {8})", "", line) for line in rest)])

    def field(key: str) -> str | None:
        return str(message.get(key) or "") or None

    return {"name": field("Name"), "version": field("Version"), "license_expression": field("License-Expression"),
            "classifiers": [str(c) for c in message.get_all("Classifier") or []], "license": field("License"),
            "description_content_type": field("Description-Content-Type"), "description": description}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pipeline-bench" / "finance")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_finance.jsonl.gz")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    unique, excluded = NearDuplicates(), older_readme_packages()
    for item in coherent_items(ROOT / "bench" / "corpus"):  # nothing already in the older sets
        if item.get("batch") != BATCH:
            unique.admit(item["text"])
        if item.get("batch") == OLDER_README_BATCH:
            excluded.add(normalized(item["package"].removeprefix("pypi:")))
    items, used, skipped = [], {}, {}
    for wanted, pinned in PACKAGES:
        path = archive(wanted, pinned, args.cache)
        if path is None:
            skipped[wanted] = "not downloaded"
            continue
        info = info_of(core_metadata(path))
        name, version, licence = normalized(info["name"] or wanted), info["version"] or pinned, licence_of(info)
        size = len(info["description"].split())
        reasons = [reason for reason, failed in (
            ("README already in an older set", name in excluded), ("no licence stated, or proprietary", not licence),
            (f"README not Markdown ({info['description_content_type']})", not is_markdown(info)),
            (f"README of {size} words", size < 150)) if failed]
        if reasons:
            skipped[f"{name} {version}"] = "; ".join(reasons)
            continue
        doc = f"pypi:{name}@{version}:README"
        chosen = readme_sections(info["description"], unique, SECTIONS_PER_PACKAGE)
        for number, section, shape in chosen:
            items.append({"id": f"{doc}#{number}", "label": "coherent", "shape": shape, "source": "pypi-readme",
                          "package": f"pypi:{name}", "doc": doc, "licence": licence, "split": split_of(f"finance:{name}"),
                          "batch": BATCH, "onset": None, "text": section})
        used[f"{name} {version}"] = {"licence": licence, "sections": len(chosen),
                                     "split": split_of(f"finance:{name}")}
    print(json.dumps({"used": used, "skipped": skipped, "sections": len(items),
                      "licences": Counter(i["licence"] for i in items).most_common(),
                      "by_split_and_shape": write_corpus(items, args.out)}, indent=1))


if __name__ == "__main__":
    main()
