"""Build bench/corpus/coherent_npm.jsonl.gz: coherent sections from the READMEs of npm packages.

A third coherent set, built after the detector was tuned on the other two, from text of a kind it had
never seen: GitHub-flavoured Markdown written by JavaScript developers, with option tables, install
commands, code, changelog-like lists and version numbers. Packages are found breadth-first from a few
well-known seeds through their dependencies and devDependencies (the registry has no search here);
each one's README.md is read from its published tarball. HTML blocks, HTML comments and badge or image
lines are dropped (a draft has none); everything else is kept as written. Sections are cut by
bench/build_coherent_corpus.py's rules (150-600 words, same shapes, same duplicate filter, which also
rejects anything already in the older coherent sets), at most 5 per package (packages that state no
licence are skipped), and split by a hash of the
package name: calibration 50%, held-out 25%, reserve 25%. Every item carries `batch: "npm-readmes"`.
Tarballs are cached in --cache, so a rebuild reads the same versions.
A later set (coherent_npm2, 2026-12-07) crawls further and skips the packages of an earlier one:
python bench/build_npm_corpus.py --packages 1500 --skip-packages-of bench/corpus/coherent_npm.jsonl.gz \
    --batch npm-readmes-2 --out bench/corpus/coherent_npm2.jsonl.gz
Usage: python bench/build_npm_corpus.py [--packages 700] [--cache DIR] [--out FILE] [--batch NAME]
                                        [--skip-packages-of SET.jsonl.gz]"""

from __future__ import annotations

import argparse
import io
import json
import re
import tarfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from build_coherent_corpus import ROOT, NearDuplicates, sections_of, shape_of, split_of, write_corpus
from collapse import coherent_items, load

REGISTRY = "https://registry.npmjs.org"
SEEDS = ("express", "commander", "yargs", "chalk", "axios", "lodash", "react", "vue", "webpack", "vite",
         "eslint", "prettier", "typescript", "jest", "mocha", "rollup", "esbuild", "fastify", "koa", "socket.io",
         "mongoose", "pg", "sequelize", "knex", "redis", "ioredis", "d3", "three", "moment", "dayjs", "date-fns",
         "uuid", "dotenv", "winston", "pino", "debug", "ws", "got", "node-fetch", "cheerio", "puppeteer-core",
         "markdown-it", "marked", "handlebars", "ejs", "pug", "sharp", "jimp", "zod", "joi", "ajv", "yup",
         "rxjs", "immer", "redux", "mobx", "graphql", "apollo-server", "prisma", "typeorm", "nodemon", "pm2",
         "semver", "glob", "minimatch", "chokidar", "fs-extra", "rimraf", "inquirer", "ora", "listr2", "execa",
         "cross-env", "husky", "lint-staged", "babel-loader", "postcss", "tailwindcss", "sass", "less", "stylus",
         "nock", "supertest", "sinon", "chai", "ava", "tap", "vitest", "playwright-core", "bull", "agenda",
         "node-cron", "croner", "luxon", "numeral", "big.js", "decimal.js", "mathjs", "papaparse", "csv-parse",
         "xlsx", "pdfkit", "nodemailer", "passport", "jsonwebtoken", "bcryptjs", "helmet", "cors", "multer")
SECTIONS_PER_PACKAGE = 5

_HTML_LINE = re.compile(r"^\s*</?[A-Za-z!][^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BADGE_OR_IMAGE = re.compile(r"^\s*(\[!\[|!\[)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def manifest(session: requests.Session, name: str) -> dict | None:
    reply = session.get(f"{REGISTRY}/{name.replace('/', '%2F')}/latest", timeout=60)
    return reply.json() if reply.ok else None


def readme(session: requests.Session, meta: dict, cache: Path) -> str | None:
    """README.md (any case) at the package's root in its published tarball."""
    path = cache / f"{meta['name'].replace('/', '+')}-{meta['version']}.tgz"
    if not path.exists():
        reply = session.get(meta["dist"]["tarball"], timeout=120)
        if not reply.ok:
            return None
        path.write_bytes(reply.content)
    try:
        with tarfile.open(fileobj=io.BytesIO(path.read_bytes())) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1].lower() in ("readme.md", "readme.markdown") and member.isfile():
                    handle = tar.extractfile(member)
                    return handle.read().decode("utf-8", "replace") if handle else None
    except (tarfile.TarError, OSError, EOFError):
        return None
    return None


def draft_like(markdown: str) -> str:
    """Drop what a draft never holds (HTML blocks and comments, badge and image lines); keep code as is."""
    kept, inside = [], False
    for line in _COMMENT.sub("", markdown.replace("\r\n", "\n")).split("\n"):
        if _FENCE.match(line):
            inside = not inside
        elif not inside and (_HTML_LINE.match(line) or _BADGE_OR_IMAGE.match(line)):
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def crawl(limit: int, cache: Path):
    """Yield (manifest, README text) for up to `limit` packages, breadth-first from SEEDS."""
    session = requests.Session()
    queue, seen, done = deque(SEEDS), set(SEEDS), 0
    with ThreadPoolExecutor(8) as pool:
        while queue and done < limit:
            names = [queue.popleft() for _ in range(min(16, len(queue)))]
            for meta in pool.map(lambda n: manifest(session, n), names):
                if not meta or "dist" not in meta:
                    continue
                for dep in [*meta.get("dependencies", {}), *meta.get("devDependencies", {})]:
                    if dep not in seen:
                        seen.add(dep)
                        queue.append(dep)
                text = readme(session, meta, cache)
                if text:
                    done += 1
                    yield meta, text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=700)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pipeline-bench" / "npm")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_npm.jsonl.gz")
    parser.add_argument("--batch", default="npm-readmes")
    parser.add_argument("--skip-packages-of", type=Path, help="a set whose packages this one leaves out")
    args = parser.parse_args()
    skipped = {item["package"] for item in load(args.skip_packages_of)} if args.skip_packages_of else set()
    args.cache.mkdir(parents=True, exist_ok=True)
    unique = NearDuplicates()
    for item in coherent_items(ROOT / "bench" / "corpus"):  # nothing already in the older sets
        if item.get("batch") != args.batch:
            unique.admit(item["text"])
    items = []
    for meta, text in crawl(args.packages, args.cache):
        name, kept = meta["name"], 0
        if not isinstance(meta.get("license"), str) or f"npm:{name}" in skipped:
            continue  # no licence stated: not ours to redistribute
        for number, section in enumerate(sections_of(draft_like(text))):
            if kept >= SECTIONS_PER_PACKAGE:
                break
            if not unique.admit(section):
                continue
            kept += 1
            items.append({"id": f"npm:{name}@{meta['version']}#{number}", "label": "coherent",
                          "shape": shape_of(section), "source": "npm-readme", "package": f"npm:{name}",
                          "doc": f"npm:{name}/README.md", "licence": meta["license"],
                          "split": split_of(f"npm:{name}"), "batch": args.batch, "onset": None, "text": section})
    print(json.dumps({"sections": len(items), "packages": len({i["package"] for i in items}),
                      "by_split_and_shape": write_corpus(items, args.out)}, indent=1))


if __name__ == "__main__":
    main()
