"""Inputs that would hang or exhaust a run end in a message: huge briefs, error floods, deep nesting,
templates that build huge values, render forever or read files outside their folder."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.config import load_brief
from pipeline.errors import BriefError, TemplateError
from pipeline.prompts import make_environment, render_template

from .conftest import MINIMAL_BRIEF


def test_a_huge_brief_is_refused_unread(write_brief):
    brief = write_brief(MINIMAL_BRIEF + "research: |\n" + "  notes\n" * 300_000)
    with pytest.raises(BriefError, match="larger than 1024 KiB"):
        load_brief(brief)


def test_validate_dev_zero_ends_with_a_message(tmp_path):
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", "/dev/zero"])
    assert result.exit_code == 2 and "larger than 1024 KiB" in result.stderr
    assert time.perf_counter() - started < 5


def test_a_flood_of_unknown_keys_lists_fifty_and_counts_the_rest(write_brief):
    brief = write_brief(MINIMAL_BRIEF + "".join(f"unknown_{n}: 1\n" for n in range(20_000)))
    started = time.perf_counter()
    with pytest.raises(BriefError) as caught:
        load_brief(brief)
    assert len(caught.value.problems) == 51 and caught.value.problems[-1] == "... and 19950 more problems"
    assert time.perf_counter() - started < 10


def test_a_brief_nested_too_deeply_is_a_problem_not_a_crash(write_brief):
    brief = write_brief(MINIMAL_BRIEF + "variables:\n  deep: " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(BriefError, match="nested too deeply"):
        load_brief(brief)


# -- templates -----------------------------------------------------------------------------------
def render(project, text: str, **context) -> str:
    (project / "templates" / "t.j2").write_text(text)
    return render_template(make_environment(project / "templates"), "t.j2", context)


@pytest.mark.parametrize("text", ["{{ 'a' * 10**9 }}", "{{ 10**9 * 'a' }}", "{{ [0] * 10**8 }}",
                                  "{% set s = 'x' * 999999 %}{{ s + s }}", "{{ 2 ** 100000 }}"])
def test_templates_cannot_build_huge_values(project, text):
    started = time.perf_counter()
    with pytest.raises(TemplateError, match="unsafe template operation"):
        render(project, text)
    assert time.perf_counter() - started < 2


# Each of these builds its gigabyte in one C call, before the output limit or the clock could act (seconds
# and gigabytes each before the size was checked first).
@pytest.mark.parametrize("text", ['{{ "x"|center(2000000000) }}', '{{ "x".center(2000000000) }}',
                                  '{{ "x".ljust(2000000000) }}', '{{ "1".zfill(2000000000) }}',
                                  '{{ "%2000000000s"|format("x") }}', '{{ "%2000000000s" % "x" }}',
                                  '{{ "%*s" % (2000000000, "x") }}', '{{ "%(a)2000000000s" % {"a": 1} }}',
                                  '{{ "{:>2000000000}".format("x") }}', '{{ "{:{}}".format("x", 2000000000) }}',
                                  '{{ "{a:>2000000000}".format_map({"a": 1}) }}',
                                  '{{ ("a" * 100000)|replace("", "b" * 100000) }}',
                                  '{{ ("a" * 100000).replace("a", "b" * 100000) }}',
                                  '{{ ("a\n" * 100000)|indent(100000) }}', '{{ ("\t" * 100000).expandtabs(100000) }}'])
def test_templates_cannot_pad_format_or_replace_into_huge_values(project, text):
    started = time.perf_counter()
    with pytest.raises(TemplateError, match="unsafe template operation: .* longer than 1000000"):
        render(project, text)
    assert time.perf_counter() - started < 1


def test_ordinary_padding_formatting_and_replacing_render_as_before(project):
    text = ('{{ "%d%%" % 5 }} {{ "{:,}".format(1234567) }} {{ "{:.2f}".format(3.14159) }} {{ "{0:>4}|".format("x") }} '
            '{{ "2000000 users: %s" % "x" }} {{ "%s and %s"|format("a", "b") }} {{ "abc"|replace("b", "x") }} '
            '{{ "{:{}}|".format("x", 3) }}{{ "%*s|" % (3, "y") }}{{ "x"|center(5) }}|{{ 7 % 3 }}|{{ "a\nb"|indent(2) }}')
    assert render(project, text) == ("5% 1,234,567 3.14    x| 2000000 users: x a and b axc x  |  y|  x  |1|a\n  b")


def test_a_template_that_renders_forever_is_stopped(project, monkeypatch):
    from pipeline import prompts

    monkeypatch.setattr(prompts, "MAX_RENDER_SECONDS", 0.5)
    started = time.perf_counter()
    with pytest.raises(TemplateError, match=r"t.j2.*template took longer than 0.5 s"):
        render(project, "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}")
    assert time.perf_counter() - started < 3


def test_a_template_that_renders_too_much_is_stopped(project):
    with pytest.raises(TemplateError, match="rendered more than 1000000 characters"):
        render(project, "{% for a in range(100000) %}{{ 'x' * 100 }}{% endfor %}")


def test_ordinary_templates_render_as_before(project):
    assert render(project, "{{ 'ab' * 3 }} {{ 2 ** 10 }} {{ items | join(', ') }}", items=[1, 2]) == "ababab 1024 1, 2"


def test_a_symlinked_template_cannot_read_outside_its_folder(project, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (project / "templates" / "evil.j2").symlink_to(secret)
    env = make_environment(project / "templates")
    with pytest.raises(TemplateError, match="leads outside the template folder") as caught:
        render_template(env, "evil.j2", {})
    assert "root:x" not in str(caught.value)


# -- files a brief may name -----------------------------------------------------------------------
def test_a_templates_folder_outside_the_project_is_refused(write_brief, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    brief = write_brief(f"templates: {outside}\n" + MINIMAL_BRIEF)
    with pytest.raises(BriefError) as caught:
        load_brief(brief)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{brief}:1:12: templates: {outside} resolves to {outside}, outside the project folder")
    assert "allow_outside_project: true" in problem


def test_data_paths_and_snapshots_are_contained_too_symlinks_resolved(write_brief, project, tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-secret.json"
    secret.write_text("[]")
    (project / "briefs" / "link.json").symlink_to(secret)
    brief = write_brief(MINIMAL_BRIEF + f"""\
kind: newsletter
sources:
  feeds:
    - {{url: "https://example.com/rss", snapshot: {secret}}}
  data:
    - {{name: trades, path: link.json, columns: {{pair: str}}, whole_history: true}}
""")
    with pytest.raises(BriefError) as caught:
        load_brief(brief)
    assert [p.split(": ")[1] for p in caught.value.problems] == ["sources.feeds.0.snapshot", "sources.data.0.path"]


def test_allow_outside_project_is_an_explicit_opt_in(write_brief, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-shared-templates"
    outside.mkdir()
    brief = write_brief(f"templates: {outside}\nallow_outside_project: true\n" + MINIMAL_BRIEF)
    assert load_brief(brief).templates_dir == outside.resolve()
