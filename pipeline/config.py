"""The brief: pydantic models (strict, documented where declared) and loading with file:line:col errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import BriefError
from .yamlsource import YamlDocument, format_problem, load_yaml

DEFAULT_MODEL = "builtin:smollm2"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class SamplingSettings(Strict):
    """Generation settings of a stage. A section may override any of them by giving the same key."""

    enable_thinking: bool = Field(False, description="Passed to the chat template on every call.")
    max_tokens: int = Field(350, ge=16, le=8192, description="Hard cap on generated tokens per call.")
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0, le=1000, description="0 disables top-k.")
    min_p: float = Field(0.05, ge=0.0, lt=1.0)
    repetition_penalty: float | None = Field(1.1, ge=1.0, le=2.0)
    presence_penalty: float | None = Field(None, ge=0.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=0.0, le=2.0)
    penalty_context: int | None = Field(
        None, ge=16, le=32768,
        description="Tokens the penalties look back over; default max_tokens (the whole section). "
        "Must be >= max_tokens so repetition anywhere in the section is penalised.",
    )
    seed: int = Field(0, ge=0, description="Base seed; each section and retry derives its own from it.")
    attempts: int = Field(2, ge=1, le=6, description="Calls per section before it is flagged for review.")


SETTING_KEYS = tuple(SamplingSettings.model_fields)


class SectionOverrides(Strict):
    """Every stage setting, optional: a section's value wins over its stage's."""

    enable_thinking: bool | None = None
    max_tokens: int | None = Field(None, ge=16, le=8192)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    top_k: int | None = Field(None, ge=0, le=1000)
    min_p: float | None = Field(None, ge=0.0, lt=1.0)
    repetition_penalty: float | None = Field(None, ge=1.0, le=2.0)
    presence_penalty: float | None = Field(None, ge=0.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=0.0, le=2.0)
    penalty_context: int | None = Field(None, ge=16, le=32768)
    seed: int | None = Field(None, ge=0)
    attempts: int | None = Field(None, ge=1, le=6)


class Section(SectionOverrides):
    heading: str = Field(min_length=1, max_length=200)
    instruction: str = Field(min_length=1, max_length=2000, description="One sentence: what this section says.")
    words: int = Field(ge=20, le=1500, description="Target length in words.")
    stage: str = Field("draft", description="Which entry of `stages` supplies the settings.")
    template: str | None = Field(None, description="Section prompt template (relative to the templates dir).")
    variables: dict[str, object] = Field(default_factory=dict)

    def overrides(self) -> dict:
        return {key: getattr(self, key) for key in SETTING_KEYS if getattr(self, key) is not None}


class MemorySettings(Strict):
    """MLX memory limits in GiB. Unset values are derived from the machine's total memory."""

    memory_limit_gb: float | None = Field(None, gt=0, description="Default 75% of total memory.")
    cache_limit_gb: float | None = Field(None, ge=0, description="Default 5% of total memory.")
    wired_limit_gb: float | None = Field(None, ge=0, description="Default: the model size (Metal only).")
    clear_cache_after_tokens: int = Field(500, ge=0, description="Clear MLX's cache after longer generations.")


Fact = Annotated[str | int | float | bool, Field()]


class Brief(Strict):
    kind: Literal["post"] = "post"
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, pattern=SLUG_PATTERN, description="Default: derived from the title.")
    date: dt.date | None = Field(None, description="Default: today.")
    description: str = Field("", max_length=500)
    tags: list[str] = Field(default_factory=list)
    author: str | None = None
    model: str = Field(DEFAULT_MODEL, min_length=1)
    research: str = Field("", description="Notes the writer may use; shared by every section.")
    facts: dict[str, Fact] = Field(default_factory=dict, description="Numbers and names the post may cite.")
    variables: dict[str, object] = Field(default_factory=dict, description="Extra template variables.")
    templates: str = Field("../templates", description="Template folder, relative to the brief file.")
    system_template: str = "system.md.j2"
    section_template: str = "section.md.j2"
    stages: dict[str, SamplingSettings] = Field(default_factory=lambda: {"draft": SamplingSettings()})
    memory: MemorySettings = Field(default_factory=MemorySettings)
    sections: list[Section] = Field(min_length=1, max_length=40)

    @field_validator("tags")
    @classmethod
    def _tags_are_short(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag.strip() or len(tag) > 50:
                raise ValueError(f"tag {tag!r} must be 1-50 characters")
        return tags

    def post_slug(self) -> str:
        return self.slug or slugify(self.title)

    def post_date(self) -> dt.date:
        return self.date or dt.date.today()

    def settings_for(self, section: Section) -> SamplingSettings:
        merged = self.stages[section.stage].model_copy(update=section.overrides())
        return merged.model_copy(update={"penalty_context": merged.penalty_context or merged.max_tokens})


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or "post"


class LoadedBrief(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path
    brief: Brief
    sha256: str

    @property
    def templates_dir(self) -> Path:
        return (self.path.parent / self.brief.templates).resolve()


def cross_check(data: dict) -> list[tuple[tuple, str]]:
    """Checks that span keys: stage references and penalty windows. Works on raw data so its
    problems are reported together with the schema's."""
    problems = []
    stages = data.get("stages", {"draft": {}})
    stages = stages if isinstance(stages, dict) else {}
    for index, section in enumerate(data.get("sections") or []):
        if not isinstance(section, dict):
            continue
        stage = section.get("stage", "draft")
        if isinstance(stage, str) and stage not in stages:
            problems.append((("sections", index, "stage"), f"unknown stage {stage!r}; defined: {', '.join(stages) or 'none'}"))
            continue
        merged = {**(stages.get(stage) or {}), **section} if isinstance(stages.get(stage), dict | None) else section
        window, cap = merged.get("penalty_context"), merged.get("max_tokens", 350)
        if isinstance(window, int) and isinstance(cap, int) and window < cap:
            where = ("sections", index, "penalty_context") if "penalty_context" in section else ("stages", stage, "penalty_context")
            problems.append((where, f"{window} is shorter than max_tokens {cap}: the penalty window must cover the whole section"))
    return problems


def _pydantic_problems(exc: ValidationError) -> list[tuple[tuple, str]]:
    return [(tuple(err["loc"]), _friendly(err)) for err in exc.errors()]


def _friendly(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see README 'Brief reference')"
    if err["type"] == "missing":
        return "required key is missing"
    return f"{err['msg']} (got {err.get('input')!r})" if "input" in err and not isinstance(err["input"], dict | list) else err["msg"]


def load_brief(path: str | Path) -> LoadedBrief:
    """Load and validate a brief; raise BriefError listing every problem as file:line:col: path: msg."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BriefError([f"{path}: cannot read: {exc.strerror}"], hint="check the path") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BriefError([f"{path}: not UTF-8 text (byte {exc.start})"], hint="save the brief as UTF-8") from None
    doc = load_yaml(text, str(path))
    problems = list(doc.problems)
    if not problems and not isinstance(doc.data, dict):
        problems.append(((), (1, 1), "a brief must be a YAML mapping (title:, sections:, ...)"))
    brief = None
    if not problems:
        problems += [(p, doc.position(p), m) for p, m in cross_check(doc.data)]
        try:
            brief = Brief.model_validate(doc.data)
        except ValidationError as exc:
            problems += [(p, doc.position(p), m) for p, m in _pydantic_problems(exc)]
    if problems:
        raise BriefError(_sorted_messages(path, problems), hint="fix the lines above, then run `pipeline validate` again")
    return LoadedBrief(path=path, brief=brief, sha256=hashlib.sha256(raw).hexdigest())


def _sorted_messages(path: Path, problems: list) -> list[str]:
    ordered = sorted(problems, key=lambda p: p[1])
    return [format_problem(path, where, loc, message) for loc, where, message in ordered]


