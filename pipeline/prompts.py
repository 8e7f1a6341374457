"""Per-section prompts: a sandboxed jinja2 environment with StrictUndefined, rendered from the brief.

The system message depends only on brief-level variables, so every section shares it as a prefix
(which lets a backend prefill it once)."""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .config import LoadedBrief, SamplingSettings, Section
from .errors import TemplateError
from .filters import filter_set_of


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

    @property
    def enable_thinking(self) -> bool:
        return self.settings.enable_thinking


def make_environment(templates_dir: Path) -> jinja2.Environment:
    if not templates_dir.is_dir():
        raise TemplateError(f"template folder {templates_dir} does not exist",
                            hint="set `templates:` in the brief (relative to the brief file)")
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def brief_context(loaded: LoadedBrief) -> dict:
    brief = loaded.brief
    post = {
        "title": brief.title, "description": brief.description, "tags": brief.tags,
        "author": brief.author, "research": brief.research, "date": brief.post_date().isoformat(),
    }
    return {"post": post, "facts": brief.facts, "vars": brief.variables,
            "outline": [s.heading for s in brief.sections]}


def section_context(base: dict, section: Section, position: int) -> dict:
    variables = {**base["vars"], **section.variables}
    section_vars = {"heading": section.heading, "instruction": section.instruction, "words": section.words}
    return {**base, "vars": variables, "section": section_vars, "position": position}


def render_template(env: jinja2.Environment, name: str, context: dict) -> str:
    try:
        return env.get_template(name).render(context).strip()
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
    loader = env.loader
    assert isinstance(loader, jinja2.FileSystemLoader)  # every environment comes from make_environment
    return loader.searchpath


def _loader_dir(env: jinja2.Environment) -> str:
    return ", ".join(_searchpath(env))


def _where(exc: Exception, env: jinja2.Environment, name: str) -> str:
    return _failing_line(exc, env) or str(Path(_loader_dir(env)) / name)


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
    env = make_environment(loaded.templates_dir)
    base = {**brief_context(loaded), **(extra or {})}
    system = render_template(env, brief.system_template, base)
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
        ))
    return prompts
