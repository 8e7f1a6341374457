"""Build bench/corpus/coherent_pypi.jsonl.gz: coherent sections from the READMEs of PyPI packages.

A fourth coherent set, built after the detector was tuned on the other three, from the text closest to a
technical blog post that a registry holds: the Markdown READMEs of Python packages, with benchmark tables,
version numbers and timings, install commands, option lists and code. Source: the PyPI JSON API
(https://pypi.org/pypi/<name>/json, the latest release): `info.description` is the README. Packages are
found breadth-first from ~220 well-known seeds (fast serializers, dataframes, web servers, profilers,
compressors, ML libraries, build tools: READMEs that tend to carry benchmarks) through `requires_dist`
(every requirement's bare name: extras, version specifiers and environment markers are dropped, so the
dependencies of optional extras are followed too, as the npm builder follows devDependencies).

Rules:
- only READMEs whose `description_content_type` is text/markdown (reStructuredText, plain text and
  READMEs with no content type are skipped, not converted); the crawl stops once --packages such
  READMEs of 150+ words, licensed and not excluded below, have been read;
- packages that state no licence (no `license_expression`, no specific licence classifier, no `license`
  field) or a proprietary one or terms of service are skipped; each item records its package's licence,
  in that order of preference (a `license` field holding a whole pasted licence text is recorded as the
  licence the text is recognised as: MIT, Apache-2.0, BSD-2/3-Clause, MPL-2.0, LGPL, GPL);
- packages whose README is already in bench/corpus/coherent_real.jsonl.gz (sources package-metadata
  and package-docs) are skipped (names compared after PEP 503 normalization), though the crawl still
  goes through their dependencies;
- HTML blocks, HTML comments and badge or image lines are dropped (bench/build_npm_corpus.py's
  draft_like, after an HTML tag spread over several lines is joined onto one, so that its `src=`/`alt=`
  lines go with it); everything else is kept as written;
- sections are cut by bench/build_coherent_corpus.py's rules (150-600 words, at headings, then blank
  lines, never inside a fence) and get its shapes; its near-duplicate filter drops anything sharing over
  half its 6-word shingles with a section of the older coherent sets or one kept before;
- at most 5 sections per package: where a README gives more, table and numbers sections are taken first
  (they are the rarest shapes and the most like a post's stats), then the rest in document order;
- split by a hash of the package name (`pypi:<normalized name>`, build_coherent_corpus.split_of, as for
  npm): calibration 50%, held-out 25%, reserve 25%.
Every item carries `batch: "pypi-readmes"`. Each JSON reply is cached in --cache (less its `releases`, the
file lists of every version; a 404 as `null`), so a rebuild reads the same versions and crawls the same
packages (an error other than 404 is not cached: the package is skipped); at most 4 requests at a time.
Usage: python bench/build_pypi_corpus.py [--packages 700] [--cache DIR] [--out FILE]"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from build_coherent_corpus import ROOT, NearDuplicates, sections_of, shape_of, split_of, write_corpus
from build_npm_corpus import _FENCE, draft_like
from collapse import coherent_items

API = "https://pypi.org/pypi"
SEEDS = ("orjson", "ujson", "msgspec", "polars", "duckdb", "pyarrow", "pandas", "ruff", "uv", "httpx", "fastapi",
         "pydantic", "rich", "textual", "typer", "uvicorn", "gunicorn", "sqlalchemy", "alembic", "celery", "redis",
         "aiohttp", "tornado", "trio", "anyio", "numba", "cython", "pybind11", "nanobind", "llama-cpp-python", "vllm",
         "transformers", "tokenizers", "sentence-transformers", "faiss-cpu", "hnswlib", "annoy", "lightgbm", "xgboost",
         "catboost", "scikit-learn", "statsmodels", "networkx", "igraph", "pillow", "pillow-simd", "opencv-python",
         "imageio", "zstandard", "lz4", "brotli", "blake3", "xxhash", "mmh3", "cramjam", "python-snappy", "simdjson",
         "pysimdjson", "python-rapidjson", "cbor2", "msgpack", "pyyaml", "ruamel.yaml", "tomli", "tomlkit", "black",
         "isort", "flake8", "pylint", "mypy", "pyright", "pytest", "hypothesis", "tox", "nox", "poetry", "hatch", "pdm",
         "pip-tools", "locust", "pyperf", "pytest-benchmark", "asv", "memray", "scalene", "py-spy", "austin-dist",
         "line-profiler", "psutil", "uvloop", "gevent", "granian", "falcon", "starlette", "litestar", "django", "flask",
         "sanic", "quart", "requests", "urllib3", "pycurl", "grpcio", "protobuf", "boto3", "fsspec", "s3fs", "dask",
         "ray", "modin", "vaex", "datatable", "bottleneck", "numexpr", "jax", "einops", "safetensors", "onnxruntime",
         "openvino", "tiktoken", "regex", "rapidfuzz", "jellyfish", "python-levenshtein", "thefuzz", "spacy", "nltk",
         "gensim", "arrow", "pendulum", "python-dateutil", "whenever", "ciso8601", "numpy", "scipy", "matplotlib",
         "plotly", "bokeh", "altair", "torch", "accelerate", "datasets", "peft", "bitsandbytes", "optimum", "diffusers",
         "sglang", "mlc-llm", "exllamav2", "ctranslate2", "faster-whisper", "openai", "anthropic", "litellm",
         "langchain", "llama-index", "chromadb", "qdrant-client", "lancedb", "usearch", "joblib", "cloudpickle", "dill",
         "lmdb", "sqlite-utils", "datasette", "peewee", "asyncpg", "psycopg", "aiosqlite", "pymongo", "clickhouse-connect",
         "attrs", "cattrs", "marshmallow", "blosc2", "numcodecs", "zarr", "h5py", "tables", "xarray", "fastparquet",
         "ibis-framework", "sqlglot", "connectorx", "pyinstrument", "viztracer", "yappi", "maturin", "setuptools-rust",
         "cffi", "pythran", "mypyc", "nuitka", "pyodide-build", "cupy-cuda12x", "triton", "xformers", "flash-attn",
         "deepspeed", "aiofiles", "websockets", "picologging", "structlog", "loguru", "pyzmq", "nats-py", "aiokafka",
         "confluent-kafka", "dramatiq", "rq", "apscheduler", "diskcache", "cachetools", "pympler", "objgraph",
         "pyinstaller", "pex", "shiv", "pyroscope-io", "opentelemetry-sdk", "prometheus-client")
SECTIONS_PER_PACKAGE = 5
PREFERRED_SHAPES = ("table", "numbers")  # taken first when a README gives more than SECTIONS_PER_PACKAGE
BATCH = "pypi-readmes"

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_NO_LICENCE = {"", "unknown", "none", "n/a", "license", "licence", "other", "osi approved", "see license", "see license file"}
_OPEN_TAG = re.compile(r"<[A-Za-z!/][^<>]*$")  # an HTML tag left open at the line's end
_PROPRIETARY = re.compile(r"proprietary|commercial|all rights reserved|terms of (service|use)", re.I)
_LICENCE_TEXTS = (  # (name, how a pasted licence text gives itself away), first match wins
    ("Apache-2.0", r"Apache License,? Version 2\.0"), ("MIT", r"Permission is hereby granted, free of charge"),
    ("BSD-3-Clause", r"Redistribution and use in source and binary forms.*Neither the name"),
    ("BSD-2-Clause", r"Redistribution and use in source and binary forms"),
    ("MPL-2.0", r"Mozilla Public License,? (Version|v\.?) ?2\.0"),
    ("LGPL", r"GNU Lesser General Public License"), ("GPL", r"GNU General Public License"))


def normalized(name: str) -> str:
    """PEP 503: lower case, runs of -_. as one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project(session: requests.Session, name: str, cache: Path) -> dict | None:
    """The JSON API's reply for `name` (its latest release), from the cache when there; None if missing."""
    path = cache / f"{normalized(name)}.json"
    if path.exists():
        return json.loads(path.read_text())
    try:
        reply = session.get(f"{API}/{normalized(name)}/json", timeout=30)
    except requests.RequestException:
        return None  # a transient failure is not cached: a rebuild tries again
    if reply.status_code == 404:
        path.write_text("null\n")
        return None
    if not reply.ok:
        return None
    try:
        data = reply.json()
    except ValueError:
        return None
    data.pop("releases", None)  # every file of every version: up to 40 MB a project, and not read here
    path.write_text(json.dumps(data, ensure_ascii=False))
    return data


def tags_joined(markdown: str) -> str:
    """An HTML tag written over several lines (`<img` then `src=...`, `alt=...`, `/>`), outside code fences,
    joined onto the line where it opens, so that draft_like drops that line whole as an HTML line (when it
    starts with a tag) rather than only its first line. Joined only where the tag closes within the next
    15 lines, none of them blank."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    out, inside, index = [], False, 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            inside = not inside
        while not inside and _OPEN_TAG.search(line) and index < len(lines):
            ahead = range(index, min(index + 15, len(lines)))
            end = next((e for e in ahead if ">" in lines[e] or not lines[e].strip()), None)
            if end is None or not lines[end].strip():
                break
            line = " ".join([line.rstrip(), *(part.strip() for part in lines[index:end + 1])])
            index = end + 1
        out.append(line)
    return "\n".join(out)


def dependencies(info: dict) -> list[str]:
    """Bare names in requires_dist: extras, specifiers and markers dropped."""
    names = []
    for requirement in info.get("requires_dist") or []:
        found = _REQUIREMENT_NAME.match(requirement)
        if found:
            names.append(normalized(found.group(1)))
    return names


def licence_of(info: dict) -> str | None:
    """license_expression, else the first specific licence classifier, else the `license` field: as written
    when it is a short name, else (a whole licence text pasted in) the licence that text is recognised as.
    None when none is stated or it is proprietary or terms of service."""
    candidates = [info.get("license_expression") or ""]
    candidates += [c.split("::")[-1].strip() for c in info.get("classifiers") or [] if c.startswith("License ::")]
    field = " ".join((info.get("license") or "").split())
    if len(field) > 80 or field.lower().startswith("copyright"):
        field = next((name for name, text in _LICENCE_TEXTS if re.search(text, field, re.I)), "")
    candidates.append(field)
    for candidate in candidates:
        candidate = candidate.strip()[:80].strip()
        if candidate.lower().strip(" .") in _NO_LICENCE:
            continue
        return None if _PROPRIETARY.search(candidate) else candidate
    return None


def is_markdown(info: dict) -> bool:
    return (info.get("description_content_type") or "").split(";")[0].strip().lower() == "text/markdown"


def crawl(limit: int, cache: Path, excluded: set[str]):
    """Yield (info, licence) for up to `limit` packages with a usable Markdown README, breadth-first from SEEDS."""
    session = requests.Session()
    session.headers["User-Agent"] = "pipeline-bench corpus builder (python-requests; at most 4 requests at a time, cached)"
    start = [normalized(seed) for seed in SEEDS]
    queue, seen, done, used = deque(dict.fromkeys(start)), set(start), 0, set()
    with ThreadPoolExecutor(4) as pool:
        while queue and done < limit:
            names = [queue.popleft() for _ in range(min(8, len(queue)))]
            for name, data in zip(names, pool.map(lambda n: project(session, n, cache), names), strict=True):
                info = (data or {}).get("info")
                if not info:
                    continue
                for dep in dependencies(info):
                    if dep not in seen:
                        seen.add(dep)
                        queue.append(dep)
                licence = licence_of(info)
                canonical = normalized(info.get("name") or name)
                if canonical in excluded or canonical in used or not licence or not is_markdown(info):
                    continue
                if len((info.get("description") or "").split()) < 150:
                    continue
                done += 1
                used.add(canonical)
                yield info, licence
                if done >= limit:
                    return


def older_readme_packages() -> set[str]:
    """Normalized names of the packages whose READMEs or shipped docs are in coherent_real.jsonl.gz."""
    names = set()
    with gzip.open(ROOT / "bench" / "corpus" / "coherent_real.jsonl.gz", "rt") as fh:
        for line in fh:
            item = json.loads(line)
            if item["source"] in ("package-metadata", "package-docs"):
                names.add(normalized(item["package"].removeprefix("pypi:")))
    return names


def readme_sections(description: str, unique: NearDuplicates, limit: int) -> list[tuple[int, str, str]]:
    """A README's sections (number, text, shape) as drafts are cut, at most `limit`: table and numbers sections
    first, then the rest in document order; near duplicates of anything admitted before are skipped."""
    sections = sections_of(draft_like(tags_joined(description)))
    shapes = [shape_of(section) for section in sections]
    order = sorted(range(len(sections)), key=lambda i: (shapes[i] not in PREFERRED_SHAPES, i))
    chosen: list[int] = []
    for number in order:
        if len(chosen) >= limit:
            break
        if unique.admit(sections[number]):
            chosen.append(number)
    return [(number, sections[number], shapes[number]) for number in sorted(chosen)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=700)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pipeline-bench" / "pypi")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_pypi.jsonl.gz")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    unique = NearDuplicates()
    for item in coherent_items(ROOT / "bench" / "corpus"):  # nothing already in the older sets
        if item.get("batch") != BATCH:
            unique.admit(item["text"])
    items, readmes = [], 0
    for info, licence in crawl(args.packages, args.cache, older_readme_packages()):
        readmes += 1
        name, version = normalized(info["name"]), info.get("version") or "0"
        doc = f"pypi:{name}@{version}:README"
        for number, section, shape in readme_sections(info["description"], unique, SECTIONS_PER_PACKAGE):
            items.append({"id": f"{doc}#{number}", "label": "coherent", "shape": shape, "source": "pypi-readme",
                          "package": f"pypi:{name}", "doc": doc, "licence": licence, "split": split_of(f"pypi:{name}"),
                          "batch": BATCH, "onset": None, "text": section})
    print(json.dumps({"readmes": readmes, "sections": len(items), "packages": len({i["package"] for i in items}),
                      "licences": Counter(i["licence"] for i in items).most_common(),
                      "by_split_and_shape": write_corpus(items, args.out)}, indent=1))


if __name__ == "__main__":
    main()
