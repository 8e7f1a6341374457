"""Per-section prompts: a sandboxed jinja2 environment with StrictUndefined, rendered from the brief.

The system message depends only on brief-level variables, so every section shares it as a prefix
(which lets a backend prefill it once)."""

from __future__ import annotations

import os
import re
import signal
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.loaders import split_template_path

from .config import LoadedBrief, SamplingSettings, Section
from .config.load import project_root
from .errors import TemplateError, not_utf8
from .filters import filter_set_of
from .sandbox import BoundedSandbox


@dataclass(frozen=True)
class SectionPrompt:
    """One section's rendered chat and the settings it is generated with."""

    index: int
    heading: str
    target_words: int
    stage: str
    messages: tuple[dict, ...]
    settings: SamplingSettings
    template: str
    template_files: tuple[str, ...] = ()  # the system and section templates' files, as resolved
    language: str = "en"  # the brief's: what the collapse detector judges the text as

    @property
    def enable_thinking(self) -> bool:
        return self.settings.enable_thinking


MAX_OUTPUT_CHARS = 1_000_000  # what one template may render: far more than a prompt or a block needs
MAX_RENDER_SECONDS = 10.0  # nested loops over range() would otherwise hold the run (and its lock) forever


class RenderLimit(Exception):
    """A template ran past MAX_RENDER_SECONDS or rendered more than MAX_OUTPUT_CHARS."""


class NotAFile(jinja2.TemplateError):
    """A template name that is a folder, pipe or device in the user's template folder."""


class ContainedLoader(jinja2.FileSystemLoader):
    """Templates from one folder; a symlink that leads out of it is refused (it could read /etc/passwd
    into a prompt and run.json)."""

    def get_source(self, environment: jinja2.Environment, template: str):
        for folder in self.searchpath:  # jinja2 would skip a folder (or a pipe) of the name and use the shipped file
            candidate = Path(folder, *split_template_path(template))
            if candidate.exists() and not candidate.is_file():
                raise NotAFile(str(candidate))
        source, filename, uptodate = super().get_source(environment, template)
        folder = os.path.realpath(self.searchpath[0])
        if os.path.commonpath([folder, os.path.realpath(filename)]) != folder:
            raise jinja2.exceptions.SecurityError(f"{filename} leads outside the template folder {folder}")
        return source, filename, uptodate


SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"  # pipeline/templates/<kind>/


def make_environment(templates_dir: Path, *more: Path) -> jinja2.Environment:
    """A sandbox over one template folder, or several searched in order (a file found first wins)."""
    if not templates_dir.is_dir():
        raise TemplateError(f"template folder {templates_dir} does not exist",
                            hint="fix `templates:` in the brief (relative to the brief file), or delete it to use "
                                 "the project's templates/ or the shipped ones")
    loaders = [ContainedLoader(str(folder)) for folder in (templates_dir, *more)]
    return BoundedSandbox(
        loader=loaders[0] if len(loaders) == 1 else jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_folders(loaded: LoadedBrief) -> list[Path]:
    """Where a brief's templates come from, in order: the folder `templates:` names, or else templates/
    beside the brief or in its project (newsletters: templates/newsletter/); then the shipped defaults."""
    kind = loaded.brief.kind
    shipped = SHIPPED_TEMPLATES / (kind if (SHIPPED_TEMPLATES / kind).is_dir() else "post")
    if loaded.templates_dir:
        return [loaded.templates_dir, shipped]
    sub = "" if kind == "post" else kind
    candidates = [loaded.path.resolve().parent / "templates" / sub, project_root(loaded.path) / "templates" / sub]
    return [*[c for c in candidates if c.is_dir()][:1], shipped]


def brief_environment(loaded: LoadedBrief) -> jinja2.Environment:
    first, *rest = template_folders(loaded)
    return make_environment(first, *rest)


def template_file(env: jinja2.Environment, name: str, project: Path) -> str:
    """Which file a template name resolved to: "shipped:<kind>/<name>" for a default, else its path
    (relative to the project folder when inside it)."""
    filename = Path(env.get_template(name).filename or name)
    if filename.is_relative_to(SHIPPED_TEMPLATES):
        return f"shipped:{filename.relative_to(SHIPPED_TEMPLATES).as_posix()}"
    return str(filename.relative_to(project)) if filename.is_relative_to(project) else str(filename)


def brief_context(loaded: LoadedBrief) -> dict:
    brief = loaded.brief
    post = {
        "title": brief.title, "description": brief.description, "tags": brief.tags,
        "author": brief.author, "research": brief.research, "date": brief.post_date().isoformat(),
        "language": brief.language,
    }
    return {"post": post, "facts": brief.facts, "vars": brief.variables,
            "outline": [s.heading for s in brief.sections], "outline_summaries": outline_summaries(brief.sections)}


SUMMARY_CHARS = 120  # one line per section: enough to say what it covers, short enough for every prompt
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)", re.DOTALL)


def outline_summaries(sections: list[Section]) -> list[dict]:
    """Every section's position, heading and one line on what it covers (the first sentence of its
    instruction, shortened), so a section's prompt can say what the others cover and not repeat it.
    `outline` stays a list of headings: user templates count it."""
    summaries = []
    for position, section in enumerate(sections, start=1):
        instruction = " ".join((section.instruction or "").split())
        first = _FIRST_SENTENCE.match(instruction)
        summary = first.group(1) if first else instruction
        if len(summary) > SUMMARY_CHARS:
            summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        summaries.append({"position": position, "heading": section.heading, "summary": summary})
    return summaries


def section_context(base: dict, section: Section, position: int) -> dict:
    variables = {**base["vars"], **section.variables}
    section_vars = {"heading": section.heading, "instruction": section.instruction, "words": section.words}
    return {**base, "vars": variables, "section": section_vars, "position": position}


def render_bounded(template: jinja2.Template, context: dict) -> str:
    """Render, stopping at MAX_OUTPUT_CHARS of output or MAX_RENDER_SECONDS (timed where signals allow)."""
    pieces, size = [], 0
    with deadline(MAX_RENDER_SECONDS):
        for piece in template.generate(context):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise RenderLimit(f"rendered more than {MAX_OUTPUT_CHARS} characters")
            pieces.append(piece)
    return "".join(pieces)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """SIGALRM-based: a loop that renders nothing yields no chance to check a clock. Main thread only."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise RenderLimit(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    try:
        return render_bounded(env.get_template(name), context).strip()
    except RenderLimit as exc:
        raise TemplateError(f"{_where(exc, env, name)}: template {exc}",
                            hint="templates shape text; loop over the data, not over large ranges") from None
    except NotAFile as exc:
        raise TemplateError(f"{exc.message}: is not a regular file, so it cannot be read as the template {name!r}",
                            hint="move it out of the way, or put the template file there") from None
    except jinja2.TemplateNotFound as exc:
        included = _failing_line(exc, env)
        raise TemplateError(f"template {exc.name!r} not found in {_loader_dir(env)}"
                            + (f" (included from {included})" if included else ""),
                            hint="create it or fix the template name in the brief") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or name}:{exc.lineno}: template syntax error: {exc.message}",
                            hint=_filter_hint(str(exc)) or "fix the template") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(exc, env, name)}: {exc.message}",
                            hint="define it under `variables:` in the brief or the section and use it as "
                                 "{{ vars.NAME }}, or fix the name in the template") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{_where(exc, env, name)}: unsafe template operation: {exc}",
                            hint="templates run sandboxed: use only variables, filters and tests") from None
    except UnicodeDecodeError as exc:  # a template file saved in another encoding
        raise TemplateError(f"{_where(exc, env, name)}: {not_utf8(exc)}",
                            hint="save the template as UTF-8 in your editor") from None
    except Exception as exc:  # e.g. 1/0 or a runaway include: the template's fault, not a crash of ours
        raise TemplateError(f"{_where(exc, env, name)}: template failed: {type(exc).__name__}: {exc}",
                            hint=_filter_hint(str(exc)) or "fix the template") from None


_MISSING_FILTER = re.compile(r"No filter named '([^']+)'")


def _filter_hint(message: str) -> str | None:
    """A domain filter the brief has not opted into: name the `filters:` entry that adds it."""
    missing = _MISSING_FILTER.search(message)
    filter_set = filter_set_of(missing.group(1)) if missing else None
    if missing is None or filter_set is None:
        return None
    return f"add `filters: [{filter_set}]` to the brief: {missing.group(1)} is a {filter_set} filter, opt-in per brief"


def _searchpath(env: jinja2.Environment) -> list[str]:
    loader = env.loader  # every environment comes from make_environment: one folder, or a choice of folders
    loaders = loader.loaders if isinstance(loader, jinja2.ChoiceLoader) else [loader]
    return [path for one in loaders if isinstance(one, jinja2.FileSystemLoader) for path in one.searchpath]


def _loader_dir(env: jinja2.Environment) -> str:
    return ", ".join(_searchpath(env))


def _where(exc: Exception, env: jinja2.Environment, name: str) -> str:
    return _failing_line(exc, env) or str(Path(_searchpath(env)[0]) / name)


def _failing_line(exc: Exception, env: jinja2.Environment) -> str | None:
    """jinja2 rewrites tracebacks so template frames carry the template's file and line; the
    innermost one is where it failed (an included template, not the one including it)."""
    folders = tuple(os.path.join(folder, "") for folder in _searchpath(env))
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith(folders):
            return f"{frame.filename}:{frame.lineno}"
    return None


def render_prompts(loaded: LoadedBrief, extra: dict | None = None) -> list[SectionPrompt]:
    """Prompts of the prose sections. `extra` adds context (a newsletter's data blocks and week)."""
    brief = loaded.brief
    env = brief_environment(loaded)
    project = project_root(loaded.path)
    base = {**brief_context(loaded), **(extra or {})}
    system = render_template(env, brief.system_template, base)
    system_file = template_file(env, brief.system_template, project)
    prompts = []
    for index, section in enumerate(brief.sections):
        if section.type != "prose":
            continue
        template = section.template or brief.section_template
        assert section.words is not None  # Section's validator requires words on a prose section
        user = render_template(env, template, section_context(base, section, index + 1))
        prompts.append(SectionPrompt(
            index=index, heading=section.heading, target_words=section.words, stage=section.stage,
            messages=({"role": "system", "content": system}, {"role": "user", "content": user}),
            settings=brief.settings_for(section), template=template,
            template_files=(system_file, template_file(env, template, project)), language=brief.language,
        ))
    return prompts
