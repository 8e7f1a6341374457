"""The brief loader on bad input: every problem at once, each as file:line:col: key.path: message.

Line and column numbers below are counted by hand from the YAML in each test."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline.config import load_brief
from pipeline.errors import EXIT_USAGE, BriefError, InputError

from .conftest import REPO, fails_after

SECTION = """\
sections:
  - heading: A
    instruction: Do.
    words: 30
"""
FIX_HINT = "fix the lines above, then run `pipeline validate` again"


@pytest.fixture
def invalid(project, write_brief, monkeypatch):
    """Write a brief, load it as briefs/x.yaml, and return its problems; checks the error's shape
    and that nothing under output/ was written."""
    monkeypatch.chdir(project)

    def load(text: str | bytes, name: str = "x.yaml") -> list[str]:
        if isinstance(text, bytes):
            (project / "briefs" / name).write_bytes(text)
        else:
            write_brief(text, name)
        with pytest.raises(BriefError) as info:
            load_brief(f"briefs/{name}")
        error = info.value
        assert error.exit_code == EXIT_USAGE
        assert error.hint and str(error).endswith(error.hint)  # says what to do
        assert all(p.startswith(f"briefs/{name}:") for p in error.problems)
        assert not any((project / "output").iterdir())
        return error.problems

    return load


def test_unknown_keys_top_level_in_stage_and_in_section(invalid):
    problems = invalid("""\
title: T
bogus: 1
stages:
  draft:
    max_tokns: 20
sections:
  - heading: A
    instruction: Do.
    words: 30
    colour: red
""")
    assert problems == [
        "briefs/x.yaml:2:1: bogus: unknown key; remove it or fix its spelling",
        "briefs/x.yaml:5:5: stages.draft.max_tokns: unknown key; did you mean 'max_tokens'?",
        "briefs/x.yaml:10:5: sections.0.colour: unknown key; remove it or fix its spelling",
    ]


def test_unknown_key_with_a_nested_value_points_at_the_key_line(invalid):
    problems = invalid("title: T\nmemroy:\n  cache_limit_gb: 1\n" + SECTION)
    assert problems == ["briefs/x.yaml:2:1: memroy: unknown key; did you mean 'memory'?"]


def test_real_key_in_the_wrong_place_says_where_it_belongs(invalid):
    problems = invalid("""\
title: T
max_tokens: 100
stages:
  draft:
    heading: Oops
    cache_limit_gb: 2
""" + SECTION)
    assert problems == [
        "briefs/x.yaml:2:1: max_tokens: not allowed here; max_tokens belongs under `stages.<name>:` or in a section",
        "briefs/x.yaml:5:5: stages.draft.heading: not allowed here; heading belongs in a section",
        "briefs/x.yaml:6:5: stages.draft.cache_limit_gb: not allowed here; cache_limit_gb belongs under `memory:`",
    ]


def test_wrong_types(invalid):
    problems = invalid("""\
title: T
stages:
  draft:
    max_tokens: 12.5
    enable_thinking: "yes"
sections:
  - heading: A
    instruction: Do.
    words: "100"
""")
    assert problems == [
        "briefs/x.yaml:4:17: stages.draft.max_tokens: Input should be a valid integer (got 12.5)",
        "briefs/x.yaml:5:22: stages.draft.enable_thinking: Input should be a valid boolean (got 'yes'): "
        "write true or false without quotes",
        "briefs/x.yaml:9:12: sections.0.words: Input should be a valid integer (got '100'): write a number without quotes",
    ]


def test_text_that_yaml_reads_as_a_bool_or_number_says_to_quote_it(invalid):
    problems = invalid("""\
title: 2026
tags: [mlx, true]
sections:
  - heading: false
    instruction: Do.
    words: 30
""")
    assert problems == [
        "briefs/x.yaml:1:8: title: Input should be a valid string (got 2026): put the text in quotes",
        "briefs/x.yaml:2:13: tags.1: Input should be a valid string (got True): put the text in quotes",
        "briefs/x.yaml:4:14: sections.0.heading: Input should be a valid string (got False): put the text in quotes",
    ]


def test_yaml_1_1_surprises_keep_the_text_that_was_written(tmp_path):
    """The "Norway problem": YAML 1.1 reads NO as false, 1:30 as 90, 017 as 15 and 3.10 as 3.1."""
    brief = tmp_path / "b.yaml"
    brief.write_text("""\
title: T
tags: [yes, on, NO]
facts:
  country: NO
  duration: 1:30
  code: 017
  version: 3.10
  ratio: 2.5
  launched: 2026-11-23
  total: 64
  ok: true
variables:
  answer: y
  nested: {release: 3.10}
sections:
  - heading: No
    instruction: Do.
    words: 30
    variables: {minor: 1.20}
""")
    loaded = load_brief(brief).brief
    assert loaded.tags == ["yes", "on", "NO"] and loaded.sections[0].heading == "No"
    assert loaded.facts == {"country": "NO", "duration": "1:30", "code": "017", "version": "3.10", "ratio": 2.5,
                            "launched": "2026-11-23", "total": 64, "ok": True}
    assert loaded.variables == {"answer": "y", "nested": {"release": "3.10"}}
    assert loaded.sections[0].variables == {"minor": "1.20"}


def test_out_of_range_values(invalid):
    problems = invalid("""\
title: T
stages:
  draft:
    max_tokens: 0
    temperature: 3
sections:
  - heading: A
    instruction: Do.
    words: 5
""")
    assert problems == [
        "briefs/x.yaml:4:17: stages.draft.max_tokens: Input should be greater than or equal to 16 (got 0)",
        "briefs/x.yaml:5:18: stages.draft.temperature: Input should be less than or equal to 2 (got 3)",
        "briefs/x.yaml:9:12: sections.0.words: Input should be greater than or equal to 20 (got 5)",
    ]


def test_missing_required_keys_point_at_their_parent(invalid):
    problems = invalid("""\
description: no title here
sections:
  - heading: A
    instruction: Do.
    words: 30
  - instruction: Do.
    words: 30
""")
    assert problems == [
        "briefs/x.yaml:1:1: title: required key is missing; add it",
        "briefs/x.yaml:6:5: sections.1.heading: required key is missing; add it",
    ]


def test_missing_sections(invalid):
    assert invalid("title: T\n") == ["briefs/x.yaml:1:1: sections: required key is missing; add it"]


def test_duplicate_keys_name_both_lines_and_other_problems_still_reported(invalid):
    problems = invalid("""\
title: T
sections:
  - heading: A
    instruction: Do.
    words: 30
    words: 40
title: U
bogus: 1
""")
    assert problems == [
        "briefs/x.yaml:6:5: sections.0.words: duplicate key (first defined on line 5); keep one of them",
        "briefs/x.yaml:7:1: title: duplicate key (first defined on line 1); keep one of them",
        "briefs/x.yaml:8:1: bogus: unknown key; remove it or fix its spelling",
    ]


def test_python_object_tag_is_refused_without_running_anything(invalid, project, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda command: calls.append(command) or 0)
    marker = project / "pwned"
    problems = invalid(f'title: !!python/object/apply:os.system ["echo hi > {marker}"]\n' + SECTION)
    assert calls == [] and not marker.exists()
    assert len(problems) == 1
    assert problems[0].startswith("briefs/x.yaml:1:8: title: could not determine a constructor for the tag")
    assert "python/object/apply:os.system" in problems[0]
    assert "YAML tags that build objects are not allowed" in problems[0]


def test_custom_tag_is_refused(invalid):
    problems = invalid("title: T\ndescription: !foo bar\n" + SECTION)
    assert problems == ["briefs/x.yaml:2:14: description: could not determine a constructor for the tag '!foo' "
                        "(YAML tags that build objects are not allowed in a brief)"]


def test_yaml_syntax_error_has_line_and_column(invalid):
    problems = invalid("title: T\ndescription: a\nmodel: x: y\n" + SECTION)
    assert problems == ["briefs/x.yaml:3:9: mapping values are not allowed here"]


def test_tab_indentation_is_a_syntax_error(invalid):
    problems = invalid("title: T\n\tdescription: a\n" + SECTION)
    assert len(problems) == 1 and problems[0].startswith("briefs/x.yaml:2:1: ")
    assert "'\\t'" in problems[0]


@pytest.mark.parametrize("text, problem", [
    ("title: T\ndate: 2026-13-01\n", "briefs/x.yaml:2:7: date: invalid value: month must be in 1..12"),
    ("title: T\nstages:\n  draft:\n    seed: !!int abc\n",
     "briefs/x.yaml:4:11: stages.draft.seed: invalid value: invalid literal for int() with base 10: 'abc'"),
])
def test_bad_scalar_value_gets_a_position_not_a_traceback(invalid, text, problem):
    assert invalid(text + SECTION) == [problem]


def test_control_character_is_reported_with_position(invalid):
    problems = invalid("title: T\ndescription: a\x07b\n" + SECTION)
    assert problems == ["briefs/x.yaml:2:15: special characters are not allowed (character #x0007); remove it"]


def test_recursive_alias_is_refused(invalid):
    problems = invalid("title: T\nvariables:\n  x: &a [*a]\n" + SECTION)
    assert len(problems) == 1
    assert problems[0].startswith("briefs/x.yaml:3:6: variables.x.0: an alias refers to a value that contains it")


def aliases(levels: int) -> str:
    lines = ["title: T", "variables:", "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n" + SECTION


def test_nested_aliases_that_expand_to_a_bomb_are_refused_at_once(project, write_brief):
    """'Billion laughs': 7 levels of 10 aliases would be 10**7 values in any template that prints them."""
    write_brief(aliases(7))
    started = time.perf_counter()
    with pytest.raises(BriefError, match="aliases expand this document to more than 100000 values"):
        load_brief(project / "briefs" / "post.yaml")
    assert time.perf_counter() - started < 1


def test_a_few_shared_aliases_still_load(project, write_brief):
    write_brief(aliases(3))  # 10 + 100 + 1000 values
    assert len(load_brief(project / "briefs" / "post.yaml").brief.variables["l2"]) == 10


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n"])
def test_document_that_is_not_a_mapping(invalid, text):
    assert invalid(text) == ["briefs/x.yaml:1:1: a brief must be a YAML mapping (title:, sections:, ...)"]


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(invalid, text):
    assert invalid(text) == ["briefs/x.yaml:1:1: a brief must be a YAML mapping (title:, sections:, ...)"]


def test_non_utf8_bytes_report_line_and_column(invalid, project):
    problems = invalid(b"title: T\nauthor: Jos\xe9\n" + SECTION.encode())
    assert problems == ["briefs/x.yaml:2:12: not UTF-8 text (byte 0xe9 at offset 20)"]
    with pytest.raises(BriefError, match="save the brief as UTF-8"):
        load_brief(project / "briefs" / "x.yaml")


def test_utf8_byte_order_mark_is_accepted(project):
    path = project / "briefs" / "bom.yaml"
    path.write_bytes("\ufefftitle: Café\n".encode() + SECTION.encode())
    assert load_brief(path).brief.title == "Café"


@pytest.mark.parametrize("name, reason", [("missing.yaml", "No such file or directory"), ("folder", "Is a directory")])
def test_missing_or_unreadable_path(project, monkeypatch, name, reason):
    monkeypatch.chdir(project)
    (project / "briefs" / "folder").mkdir()
    with pytest.raises(InputError) as info:
        load_brief(f"briefs/{name}")
    assert info.value.message == f"cannot read the brief briefs/{name}: {reason}"
    assert info.value.hint == "check the path" and info.value.exit_code == EXIT_USAGE
    assert not any((project / "output").iterdir())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission(project, write_brief, monkeypatch):
    monkeypatch.chdir(project)
    write_brief(name="locked.yaml").chmod(0)
    with pytest.raises(InputError, match="cannot read the brief briefs/locked.yaml: Permission denied"):
        load_brief("briefs/locked.yaml")


def test_unknown_stage_lists_the_defined_ones(invalid):
    problems = invalid("""\
title: T
stages:
  draft: {}
  polish: {temperature: 0.3}
sections:
  - heading: A
    instruction: Do.
    words: 30
    stage: final
""")
    assert problems == ["briefs/x.yaml:9:12: sections.0.stage: unknown stage 'final'; use one of: draft, polish"]


def test_empty_stages_says_to_define_one(invalid):
    problems = invalid("title: T\nstages: {}\n" + SECTION)
    assert problems == ["briefs/x.yaml:4:5: sections.0.stage: unknown stage 'draft'; define it under `stages:`"]


def test_stages_of_the_wrong_type_is_one_problem_not_a_cascade(invalid):
    problems = invalid("title: T\nstages: 3\n" + SECTION)
    assert problems == ["briefs/x.yaml:2:9: stages: Input should be a valid dictionary (got 3)"]


def test_penalty_context_shorter_than_max_tokens(invalid):
    problems = invalid("""\
title: T
stages:
  draft:
    max_tokens: 100
    penalty_context: 50
  polish: {max_tokens: 200, penalty_context: 150}
  wide: {max_tokens: 100, penalty_context: 300}
sections:
  - heading: A
    instruction: Do.
    words: 30
  - heading: B
    instruction: Do.
    words: 30
    stage: wide
    max_tokens: 400
""")
    window = "the penalty window must cover the whole section; raise penalty_context or leave it unset"
    assert problems == [
        f"briefs/x.yaml:5:22: stages.draft.penalty_context: penalty_context 50 is shorter than max_tokens 100: {window}",
        f"briefs/x.yaml:6:46: stages.polish.penalty_context: penalty_context 150 is shorter than max_tokens 200: {window}",
        f"briefs/x.yaml:16:17: sections.1.max_tokens: penalty_context 300 is shorter than max_tokens 400: {window}",
    ]


@pytest.mark.parametrize("slug", ["../../etc", "Has Caps", "-dash", "a/b", ""])
def test_bad_slug(invalid, slug):
    problems = invalid(f"title: T\nslug: {slug!r}\n" + SECTION)
    assert problems == [f"briefs/x.yaml:2:7: slug: must be lowercase letters, digits and single hyphens, "
                        f"e.g. my-post (got {slug!r})"]


@pytest.mark.parametrize("language, problem", [
    ("German", "must be a language code such as en, de or pt-BR (got 'German')"),
    ("12", "Input should be a valid string (got 12): put the text in quotes"),
])
def test_bad_language(invalid, language, problem):
    assert invalid(f"title: T\nlanguage: {language}\n" + SECTION) == [f"briefs/x.yaml:2:11: language: {problem}"]


def test_norwegian_is_a_language_not_false(project, write_brief):
    """YAML 1.1 reads `no` as false; the brief loader reads YAML 1.2's booleans only (true, false)."""
    assert load_brief(write_brief("title: T\nlanguage: no\n" + SECTION, "x.yaml")).brief.language == "no"


@pytest.mark.parametrize("template", ["../../etc/passwd", "/etc/passwd", "sub/../../x.j2"])
def test_template_outside_the_templates_folder(invalid, template):
    problems = invalid(f"title: T\n{SECTION}    template: {template}\n")
    assert problems == [f"briefs/x.yaml:6:15: sections.0.template: must be a file name inside the templates folder "
                        f"(no '..', not absolute) (got {template!r})"]


def test_fact_that_is_not_a_scalar_is_one_problem(invalid):
    problems = invalid("title: T\nfacts:\n  ok: 1\n  sizes: [1, 2]\n" + SECTION)
    assert problems == ["briefs/x.yaml:4:10: facts.sizes: a fact must be one string, number or true/false"]


def test_quoted_date_says_to_drop_the_quotes(invalid):
    problems = invalid("title: T\ndate: '2026-11-23'\n" + SECTION)
    assert problems == ["briefs/x.yaml:2:7: date: Input should be a valid date (got '2026-11-23'): "
                        "write a date like 2026-11-23 without quotes"]


def test_all_problems_are_reported_at_once_in_line_order(invalid):
    # stages comes last in the file but first in the schema: the output must still be in line order.
    problems = invalid("""\
title: T
sections:
  - heading: A
    instruction: Do.
    words: 30
  - heading: B
    instruction: Do.
    words: 30
  - heading: C
    instruction: Do.
    words: 5
  - instruction: Do.
    words: 30
stages:
  draft:
    temperature: 3
""")
    assert problems == [
        "briefs/x.yaml:11:12: sections.2.words: Input should be greater than or equal to 20 (got 5)",
        "briefs/x.yaml:12:5: sections.3.heading: required key is missing; add it",
        "briefs/x.yaml:16:18: stages.draft.temperature: Input should be less than or equal to 2 (got 3)",
    ]


def test_error_text_counts_problems_and_says_what_to_do(project, write_brief):
    path = write_brief("title: T\nbogus: 1\nmore: 2\n" + SECTION)
    with pytest.raises(BriefError) as info:
        load_brief(path)
    text = str(info.value)
    assert text.startswith("invalid brief (2 problems):\n")
    assert f"{path}:2:1: bogus: unknown key" in text and f"{path}:3:1: more: unknown key" in text
    assert text.endswith(FIX_HINT)


# The positive cases.

def test_repository_brief_validates():
    loaded = load_brief(REPO / "briefs" / "post.yaml")
    assert len(loaded.brief.sections) == 5 and list(loaded.brief.stages) == ["draft"]
    assert len(loaded.sha256) == 64


def test_section_override_wins_and_penalty_context_defaults_to_max_tokens(project, write_brief):
    loaded = load_brief(write_brief("""\
title: T
stages:
  draft: {max_tokens: 100, temperature: 0.5, enable_thinking: false}
  wide: {max_tokens: 200, penalty_context: 400}
sections:
  - {heading: Plain, instruction: Do., words: 30}
  - {heading: Own cap, instruction: Do., words: 30, max_tokens: 150, enable_thinking: true}
  - {heading: Wide, instruction: Do., words: 30, stage: wide, temperature: 0.9}
"""))
    brief = loaded.brief
    plain, own, wide = (brief.settings_for(s) for s in brief.sections)
    assert (plain.max_tokens, plain.penalty_context, plain.enable_thinking) == (100, 100, False)
    assert (own.max_tokens, own.penalty_context, own.enable_thinking, own.temperature) == (150, 150, True, 0.5)
    assert (wide.max_tokens, wide.penalty_context, wide.temperature) == (200, 400, 0.9)
    assert brief.stages["draft"].max_tokens == 100  # overrides do not leak into the stage


def test_section_can_override_every_stage_setting():
    from pipeline.config import SETTING_KEYS, SectionOverrides

    assert set(SectionOverrides.model_fields) == set(SETTING_KEYS)


def test_derived_slug_and_yaml_merge_keys(project, write_brief):
    loaded = load_brief(write_brief("""\
title: "Ünïcode: a/b & C?"
sections:
  - <<: {heading: A, instruction: Do.}
    words: 30
"""))
    assert loaded.brief.post_slug() == "unicode-a-b-c"
    assert loaded.brief.sections[0].heading == "A"


def test_brief_path_is_kept_as_given(project, write_brief):
    path = write_brief("title: T\n" + SECTION)
    assert load_brief(str(path)).path == Path(path)



def test_an_unknown_kind_names_the_registered_ones(tmp_path):
    brief = tmp_path / "b.yaml"
    brief.write_text("title: T\nkind: newsleter\nsections:\n  - {heading: A, instruction: Do., words: 30}\n")
    with pytest.raises(BriefError) as caught:
        load_brief(brief)
    assert caught.value.problems == [f"{brief}:2:7: kind: unknown kind; use one of: post, newsletter (got 'newsleter')"]


def test_filter_sets_are_checked_by_name_and_the_key_has_a_home(invalid):
    problems = invalid("""\
title: T
filters: [tradng]
filter: [trading]
sections:
  - heading: A
    instruction: Do.
    words: 30
    filters: [trading]
""")
    assert problems == [
        "briefs/x.yaml:2:10: filters: unknown filter set 'tradng'; use one of: trading",
        "briefs/x.yaml:3:1: filter: unknown key; did you mean 'filters'?",
        "briefs/x.yaml:8:5: sections.0.filters: not allowed here; filters belongs at the top level",
    ]


def newsletter_with_data(sources: str) -> str:
    """A newsletter brief whose `sources.data` entries (lines 5 on) are the given lines."""
    return f"kind: newsletter\ntitle: T\nsources:\n  data:\n{sources}sections:\n  - {{heading: A, instruction: Do., words: 30}}\n"


def test_week_column_must_name_a_declared_datetime_column(invalid):
    problems = invalid(newsletter_with_data("""\
    - {name: trades, path: t.json, columns: {at: datetime, pair: str}, week_column: closed_at}
    - {name: other, path: t.json, columns: {pair: str}, week_column: pair}
    - {name: third, path: t.json, columns: {pnl: float}, decimal: ";"}
"""))
    assert problems == [
        "briefs/x.yaml:5:7: sources.data.0: week_column 'closed_at' must name a datetime column of `columns` "
        "(datetime columns: at)",
        "briefs/x.yaml:6:7: sources.data.1: week_column 'pair' must name a datetime column of `columns` "
        "(datetime columns: none declared)",
        "briefs/x.yaml:7:67: sources.data.2.decimal: Input should be '.' or ',' (got ';')",
    ]


def test_newsletter_keys_in_a_post_are_refused_with_their_lines(invalid):
    problems = invalid("title: T\ntimezone: Europe/Berlin\nweek: 2026-W16\n"
                       "sources:\n  feeds:\n    - {name: F, url: 'https://example.org/f.xml'}\n" + SECTION
                       + "  - {heading: News, type: news, instruction: Pick.}\n")
    refused = "is for newsletters (kind: newsletter); a post does not use it: delete it, or set `kind: newsletter`"
    assert problems == [  # and nothing about the defaults a post never wrote (covers, ...)
        f"briefs/x.yaml:2:11: timezone: `timezone` {refused} (got 'Europe/Berlin')",
        f"briefs/x.yaml:3:7: week: `week` {refused} (got '2026-W16')",
        f"briefs/x.yaml:5:3: sources: `sources` {refused}",
        "briefs/x.yaml:8:3: sections: section 1 ('News') is `type: news`, which only a newsletter has: use "
        "`type: static` or prose in a post",
    ]


def test_week_and_offline_on_a_post_are_named_as_ignored(project, write_brief, caplog):
    from pipeline.backends.script import ScriptBackend
    from pipeline.progress import Reporter
    from pipeline.runner import RunOptions, run_with_catch_up

    from .conftest import opener_for

    brief = write_brief()
    words = "Memory comes first on a small machine, and every other choice follows from how it is spent. " * 3
    backend = ScriptBackend(default=words)
    options = RunOptions(out_root=project / "output", week="2026-W16", offline=True)
    run_with_catch_up(brief, options, Reporter(), opener_for(backend))
    assert f"{brief}: --week and --offline ignored: only a newsletter has a week and feeds" in caplog.text



def test_a_data_source_must_say_how_it_relates_to_the_week(invalid):
    problems = invalid(newsletter_with_data("""\
    - {name: equity, path: t.json, columns: {at: datetime, equity: float}}
    - {name: notes, path: t.json, columns: {text: str}}
    - {name: both, path: t.json, columns: {at: datetime}, week_column: at, whole_history: true}
"""))
    assert problems == [
        "briefs/x.yaml:5:7: sources.data.0: data source 'equity' does not say which rows belong to the week: set "
        "`week_column: at` to keep only the week's rows, or `whole_history: true` to read it whole",
        "briefs/x.yaml:6:7: sources.data.1: data source 'notes' does not say which rows belong to the week: set "
        "`whole_history: true` to read it whole",
        "briefs/x.yaml:7:7: sources.data.2: data source 'both': `whole_history: true` contradicts its week filter",
    ]


def test_another_week_shows_that_weeks_equity_not_the_example_weeks(project, fake):
    from pipeline.progress import Reporter
    from pipeline.runner import RunOptions, run_brief

    from .conftest import copy_examples, opener_for

    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    fake.default = "A quiet week with nothing to add. The plan holds."
    result = run_brief(brief, RunOptions(out_root=project / "output", offline=True, week="2026-W17"), Reporter(),
                       opener_for(fake))
    stats = (result.draft_dir / "index.md").read_text().split("| Metric | This week |")[1].split("\n\n")[0]
    assert "| Net return | n/a |" in stats and "| Round-trips | 0 |" in stats  # W17 has no rows: nothing from W16


def test_after_a_line_yaml_cannot_read_the_rest_is_still_checked(invalid):
    problems = invalid("title: T\nstages:\n  draft:\n   max_tokens: 100\n    temperature: 0.5\n"
                       "sections:\n  - {heading: A, words: 5, instruction: x}\n")
    assert problems == ["briefs/x.yaml:5:16: mapping values are not allowed here",
                        "briefs/x.yaml:7:25: sections.0.words: Input should be greater than or equal to 20 (got 5)"]


def test_a_skipped_line_does_not_make_its_key_look_missing(invalid):
    problems = invalid("title: T: with a colon\nsections:\n  - {heading: A, words: 30, instruction: x}\n")
    assert len(problems) == 1 and "mapping values are not allowed here" in problems[0]  # no "title: Field required"


def test_an_unclosed_quote_is_named_where_it_opens_and_the_rest_is_checked(invalid):
    problems = invalid('title: "Unclosed quote\ncolour: blue\nsections:\n  - {heading: A, words: 5, instruction: x}\n')
    assert problems[0].startswith("briefs/x.yaml:1:8: ") and "while scanning a quoted scalar" in problems[0]
    assert "briefs/x.yaml:2:1: colour: unknown key; remove it or fix its spelling" in problems
    assert any("sections.0.words" in p for p in problems)


@pytest.mark.parametrize("heading", ['"Bad\\x00 \\x1b[31mred"', '"x\\n---\\ntitle: pwned"', '"   "'])
def test_a_heading_is_one_line_of_visible_text(invalid, heading):
    (problem,) = invalid(f"title: T\nsections:\n  - heading: {heading}\n    instruction: Do.\n    words: 30\n")
    assert problem.startswith("briefs/x.yaml:3:") and "sections.0.heading" in problem
    assert "line break or control character" in problem or "is blank" in problem


def test_two_sections_with_one_heading_are_refused(invalid):
    (problem,) = invalid("title: T\n" + SECTION + "  - heading: ' a'\n    instruction: Again.\n    words: 30\n")
    assert "sections 0 and 1 have the same heading 'a'" in problem  # case and spacing aside


def test_a_brief_that_is_a_pipe_is_a_message_not_a_wait(project, monkeypatch):
    monkeypatch.chdir(project)
    os.mkfifo(project / "briefs" / "pipe.yaml")
    with fails_after(20), pytest.raises(InputError, match="it is a pipe, not a file"):
        load_brief("briefs/pipe.yaml")
