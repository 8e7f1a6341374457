"""The brief's schema: strict pydantic models, each option documented where it is declared."""

from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, create_model, field_validator, model_validator
from pydantic.fields import FieldInfo

from ..filters import FILTER_SETS

DEFAULT_MODEL = "builtin:smollm2"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$"
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$"  # ISO 639 and a region or script: de, pt-BR, zh-Hant


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class SamplingSettings(Strict):
    """Generation settings of a stage. A section may override any of them by giving the same key."""

    enable_thinking: bool = Field(False, description="Passed to the chat template on every call.")
    thinking_budget: int | None = Field(
        None, ge=1, le=32768,
        description="With enable_thinking: reasoning tokens after which the think block is closed for the "
        "model; the answer then still has all of max_tokens.",
    )
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
    attempts: int = Field(3, ge=1, le=6, description="Calls per section (up the retry ladder) before it is flagged.")
    collapse_watch: bool = Field(True, description="Stop and retry a section whose text collapses while it streams.")


SETTING_KEYS = tuple(SamplingSettings.model_fields)


def _optional(field: FieldInfo) -> tuple[Any, FieldInfo]:
    """The same setting, with the same limits, but unset by default: a section overrides only what it names."""
    assert field.annotation is not None  # every SamplingSettings field is annotated
    optional = copy.copy(field)
    optional.default, optional.description = None, None
    return (field.annotation | None, optional)


# Every stage setting, optional: a section's value wins over its stage's. Derived, so the limits
# are declared once, on SamplingSettings.
# Typed Any: mypy checks a ** unpack against every create_model keyword (__base__, __doc__ ...) too.
_OVERRIDE_FIELDS: dict[str, Any] = {name: _optional(field) for name, field in SamplingSettings.model_fields.items()}
SectionOverrides = create_model("SectionOverrides", __base__=Strict, **_OVERRIDE_FIELDS)


def _template_name(name: str) -> str:
    # jinja's loader refuses '..' too, but here the error gets the brief's file:line:col.
    if not name.strip() or name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name):
        raise ValueError("must be a file name inside the templates folder (no '..', not absolute)")
    return name


SectionType = Literal["prose", "static", "template", "news"]


def one_line_text(value: str) -> str:
    """A heading or title is one line of visible text: a newline would start a line of markdown the draft never meant
    ("---", "# injected"), and control characters reach the terminal and index.md as they are."""
    if not value.strip():
        raise ValueError("is blank: write some words")
    bad = sorted({f"U+{ord(c):04X}" for c in value if unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029"})
    if bad:
        raise ValueError(f"holds a line break or control character ({', '.join(bad)}): keep it to one line of text")
    return value


class Section(SectionOverrides):
    heading: str = Field(min_length=1, max_length=200)
    type: SectionType = Field("prose", description="prose: the model writes it; static: `text` as is; "
                              "template: rendered from data by `template`; news: the model picks feed items.")
    instruction: str | None = Field(None, min_length=1, max_length=2000, description="One sentence: what this section says.")
    words: int | None = Field(None, ge=20, le=1500, description="Target length in words.")
    stage: str = Field("draft", description="Which entry of `stages` supplies the settings.")
    template: str | None = Field(None, description="Prompt template (prose, news) or block template (template).")
    text: str | None = Field(None, min_length=1, description="The section's text, for type: static.")
    max_items: int = Field(5, ge=1, le=20, description="News items to pick, for type: news.")
    variables: dict[str, object] = Field(default_factory=dict)

    @field_validator("template")
    @classmethod
    def _template_inside(cls, name: str | None) -> str | None:
        return None if name is None else _template_name(name)

    @field_validator("heading")
    @classmethod
    def _one_line(cls, heading: str) -> str:
        return one_line_text(heading)

    @model_validator(mode="after")
    def _fields_for_type(self) -> Section:
        needed = {"prose": ("instruction", "words"), "news": ("instruction",), "static": ("text",),
                  "template": ("template",)}[self.type]
        missing = [key for key in needed if getattr(self, key) is None]
        if missing:
            raise ValueError(f"a {self.type} section needs {' and '.join(missing)}")
        return self

    def overrides(self) -> dict:
        return {key: getattr(self, key) for key in SETTING_KEYS if getattr(self, key) is not None}


class MemorySettings(Strict):
    """MLX memory limits in GiB. Unset values are derived from the machine's total memory."""

    memory_limit_gb: float | None = Field(None, gt=0, description="Default 75% of total memory.")
    cache_limit_gb: float | None = Field(None, ge=0, description="Default 5% of total memory.")
    wired_limit_gb: float | None = Field(None, ge=0, description="Default: the model size (Metal only).")
    clear_cache_after_tokens: int = Field(500, ge=0, description="Clear MLX's cache after longer generations.")


def _fact_value(value: object) -> str | int | float | bool:
    # A plain union reports one error per member type (facts.x.str, facts.x.int, ...).
    if not isinstance(value, str | int | float | bool):
        raise ValueError("a fact must be one string, number or true/false")
    return value


Fact = Annotated[str | int | float | bool, PlainValidator(_fact_value)]


class GenerationSettings(Strict):
    """How sections are decoded: one call after another, or together in batches."""

    mode: Literal["auto", "batched", "sequential"] = Field(
        "auto", description="auto: batched where a measurement at model load shows it pays on this machine "
        "(GPUs; a CPU with a real BLAS), else sequential.")
    max_batch: int = Field(8, ge=1, le=64, description="Sections decoded together at most.")


class FeedSource(Strict):
    url: str = Field(pattern=r"^https?://\S+$", description="http(s) only.")
    name: str | None = Field(None, min_length=1, max_length=80, description="Default: the feed's host.")
    max_items: int = Field(10, ge=1, le=100, description="Items kept from this feed per week.")
    snapshot: str | None = Field(None, description="A saved copy of the feed (relative to the brief), read "
                                 "when the feed cannot be fetched and nothing is cached.")
    allow_private: bool = Field(False, description="Fetch it even if its host (or a redirect) resolves to a "
                                "loopback, link-local, private or unspecified address. Off by default: a brief "
                                "must not make the build read from inside your network.")


class DataSource(Strict):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$", description="Templates see it as data.<name>.")
    path: str = Field(min_length=1, description="JSON, CSV or SQLite file, relative to the brief file.")
    columns: dict[str, Literal["str", "int", "float", "datetime", "date", "bool"]] = Field(min_length=1)
    query: str | None = Field(None, description="SQLite only; may use :start and :end (the week, ISO).")
    week_column: str | None = Field(None, description="A datetime column: keep only rows inside the week.")
    decimal: Literal[".", ","] = Field(".", description='The decimal mark of numbers written as text: "1,5" is '
                                       'an error unless this is ","; thousands separators are the other mark.')
    whole_history: bool = Field(False, description="Read every row, whatever the week (a running list, all-time "
                                "figures). A source needs this, a `week_column` or a query using :start/:end, so "
                                "no block shows another week's rows under 'this week'. Templates see `data_scope`.")

    @model_validator(mode="after")
    def _says_how_it_relates_to_the_week(self) -> DataSource:
        by_query = bool(self.query and (":start" in self.query or ":end" in self.query))
        if not (self.week_column or by_query or self.whole_history):
            datetimes = [name for name, kind in self.columns.items() if kind == "datetime"]
            suggestion = f"`week_column: {datetimes[0]}` to keep only the week's rows, or " if datetimes else ""
            raise ValueError(f"data source {self.name!r} does not say which rows belong to the week: set "
                             f"{suggestion}`whole_history: true` to read it whole")
        if self.whole_history and (self.week_column or by_query):
            raise ValueError(f"data source {self.name!r}: `whole_history: true` contradicts its week filter")
        return self

    @model_validator(mode="after")
    def _week_column_is_a_datetime(self) -> DataSource:
        if self.week_column and self.columns.get(self.week_column) != "datetime":
            datetimes = [name for name, kind in self.columns.items() if kind == "datetime"] or ["none declared"]
            raise ValueError(f"week_column {self.week_column!r} must name a datetime column of `columns` "
                             f"(datetime columns: {', '.join(datetimes)})")
        return self


class Sources(Strict):
    feeds: list[FeedSource] = Field(default_factory=list, max_length=50)
    data: list[DataSource] = Field(default_factory=list, max_length=20)


class Brief(Strict):
    kind: str = Field("post", description="What the brief makes: post or newsletter (pipeline/kinds/).")
    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(None, pattern=SLUG_PATTERN, description="Default: derived from the title.")
    date: dt.date | None = Field(None, description="Default: today.")
    description: str = Field("", max_length=500)
    tags: list[str] = Field(default_factory=list)
    author: str | None = None
    model: str = Field(DEFAULT_MODEL, min_length=1)
    language: str = Field("en", pattern=LANGUAGE_PATTERN, description="The language the draft is written in, as "
                          "a code (en, de, pt-BR). The collapse check's token-soup, token-cost and long-sentence "
                          "signals are English's and judge only English; templates see it as post.language.")
    research: str = Field("", description="Notes the writer may use; shared by every section.")
    facts: dict[str, Fact] = Field(default_factory=dict, description="Numbers and names the post may cite.")
    variables: dict[str, object] = Field(default_factory=dict, description="Extra template variables.")
    templates: str | None = Field(None, description="Template folder, relative to the brief file. Default: "
                                  "templates/ beside the brief, else the project's templates/ (newsletters: "
                                  "templates/newsletter/), else the templates shipped with pipeline. A file your "
                                  "folder lacks comes from the shipped ones; render and run.json say which file.")
    allow_outside_project: bool = Field(
        False, description="Let `templates`, data `path`s and feed `snapshot`s point outside the brief's project "
        "folder (symlinks resolved). Off by default: a brief must not read /etc into a prompt or run.json.")
    filters: list[str] = Field(
        default_factory=list, description="Domain filter sets the block templates may use, e.g. [trading] for "
        "trade_stats, equity_stats, failure_clusters and worst_pair. Formatting filters are always there.")
    system_template: str = "system.md.j2"
    section_template: str = "section.md.j2"
    stages: dict[str, SamplingSettings] = Field(default_factory=lambda: {"draft": SamplingSettings()})
    memory: MemorySettings = Field(default_factory=MemorySettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    timezone: str = Field("UTC", description="Newsletters: the ISO week is taken in this time zone.")
    week: str | None = Field(None, pattern=r"^\d{4}-W\d{2}$", description="Newsletters: build this ISO week "
                             "(e.g. 2026-W16) instead of the one `covers` picks; --week overrides it.")
    unverified_numbers: Literal["attention", "info"] | None = Field(
        None, description="A number in model prose that is in none of the facts, research, variables, data or "
        "sources: `attention` (a reviewer must look; exit 3) or `info`. Default: attention for posts, info for "
        "newsletters; --strict makes it attention.")
    covers: Literal["last", "current"] = Field(
        "last", description="Newsletters with no `week:`: `last` builds the last completed ISO week (a Monday-morning "
        "build covers the whole week before it), `current` the week under way. Catch-up follows the same rule.")
    sources: Sources = Field(default_factory=Sources, description="Newsletters: feeds and operating data.")
    sections: list[Section] = Field(min_length=1, max_length=40)

    @field_validator("filters")
    @classmethod
    def _known_filter_sets(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in FILTER_SETS]
        if unknown:
            raise ValueError(f"unknown filter set {unknown[0]!r}; use one of: {', '.join(FILTER_SETS)}")
        return names

    @field_validator("timezone", "week", "covers", "sources")
    @classmethod
    def _newsletter_only(cls, value: Any, info: ValidationInfo) -> Any:
        default = cls.model_fields[info.field_name or ""].get_default(call_default_factory=True)
        if info.data.get("kind", "post") == "post" and value != default:  # silently ignored would mislead: refused
            raise ValueError(f"`{info.field_name}` is for newsletters (kind: newsletter); a post does not use it: "
                             "delete it, or set `kind: newsletter`")
        return value

    @field_validator("sections")
    @classmethod
    def _no_news_in_posts(cls, sections: list[Section], info: ValidationInfo) -> list[Section]:
        for number, section in enumerate(sections):
            if section.type == "news" and info.data.get("kind", "post") == "post":
                raise ValueError(f"section {number} ({section.heading!r}) is `type: {section.type}`, which only a "
                                 "newsletter has: use `type: static` or prose in a post")
        return sections

    @field_validator("sections")
    @classmethod
    def _headings_differ(cls, sections: list[Section]) -> list[Section]:
        seen: dict[str, int] = {}
        for number, section in enumerate(sections):
            key = " ".join(section.heading.split()).casefold()
            if key in seen:
                raise ValueError(f"sections {seen[key]} and {number} have the same heading {section.heading.strip()!r}: "
                                 "give each its own (redo and check find a section by its heading)")
            seen[key] = number
        return sections

    @field_validator("title")
    @classmethod
    def _title_one_line(cls, title: str) -> str:
        return one_line_text(title)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        from ..kinds import KINDS  # the registry imports this schema, so it is looked up when validating

        if kind not in KINDS:
            raise ValueError(f"unknown kind; use one of: {', '.join(KINDS)}")
        return kind

    @field_validator("system_template", "section_template")
    @classmethod
    def _templates_inside(cls, name: str) -> str:
        return _template_name(name)

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
    def templates_dir(self) -> Path | None:
        """The folder `templates:` names (None: not set, so the default search applies)."""
        return (self.path.parent / self.brief.templates).resolve() if self.brief.templates else None
