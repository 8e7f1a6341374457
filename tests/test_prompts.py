"""Prompt rendering: sandboxed, strict templates whose errors name the template file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import load_brief
from pipeline.errors import EXIT_USAGE, TemplateError
from pipeline.prompts import make_environment, render_prompts, render_template

from .conftest import REPO

BRIEF = """\
title: Prompts under test
date: 2026-11-23
variables: {tone: calm, audience: developers}
stages:
  draft: {max_tokens: 60}
sections:
  - heading: First
    instruction: Say the first thing.
    words: 40
  - heading: Second
    instruction: Say the second thing.
    words: 50
    enable_thinking: true
"""


@pytest.fixture
def templates(project):
    return (project / "templates").resolve()


@pytest.fixture
def render(project, write_brief):
    """Render the prompts of a brief; TemplateErrors are checked for a hint and for an untouched output/."""

    def run(extra_section: str = "", text: str = BRIEF):
        loaded = load_brief(write_brief(text + extra_section))
        try:
            return render_prompts(loaded)
        except TemplateError as exc:
            assert exc.exit_code == EXIT_USAGE and exc.hint
            assert not any((project / "output").iterdir())
            raise

    return run


def own_template(name: str) -> str:
    return f"  - heading: Third\n    instruction: Say more.\n    words: 30\n    template: {name}\n"


def test_missing_template_names_it_and_the_folder(render, templates):
    with pytest.raises(TemplateError) as info:
        render(own_template("nothere.md.j2"))
    shipped = REPO / "pipeline" / "templates" / "post"  # searched after the project's own folder
    assert info.value.message == f"template 'nothere.md.j2' not found in {templates}, {shipped}"
    assert "create it or fix the template name" in info.value.hint


def test_missing_included_template_also_names_the_including_line(render, templates):
    (templates / "outer.j2").write_text("Intro.\n{% include 'gone.j2' %}\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("outer.j2"))
    shipped = REPO / "pipeline" / "templates" / "post"
    assert info.value.message == (f"template 'gone.j2' not found in {templates}, {shipped} "
                                  f"(included from {templates}/outer.j2:2)")


@pytest.mark.parametrize("make", [Path.mkdir, lambda path: os.mkfifo(path)], ids=["folder", "pipe"])
def test_a_template_name_that_is_not_a_file_is_an_error_not_the_shipped_default(render, templates, make):
    (templates / "section.md.j2").unlink()
    make(templates / "section.md.j2")  # jinja2 alone would skip it and render the shipped section template
    with pytest.raises(TemplateError) as info:
        render()
    assert info.value.message.startswith(f"{templates}/section.md.j2: is not a regular file")
    assert "move it out of the way" in info.value.hint


def test_missing_templates_folder(project, write_brief):
    loaded = load_brief(write_brief("templates: ../nowhere\n" + BRIEF))
    with pytest.raises(TemplateError) as info:
        render_prompts(loaded)
    assert info.value.message == f"template folder {(project / 'nowhere').resolve()} does not exist"
    assert "templates:" in info.value.hint


def test_syntax_error_names_file_and_line(render, templates):
    (templates / "broken.j2").write_text("Line one.\nLine two.\n{{ section.heading }\nLine four.\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("broken.j2"))
    assert info.value.message == f"{templates}/broken.j2:3: template syntax error: unexpected '}}'"
    assert info.value.hint == "fix the template"


def test_a_template_saved_in_another_encoding_names_its_line(render, templates):
    (templates / "latin.j2").write_bytes("Line one.\nFür {{ section.heading }}.\n".encode("latin-1"))
    with pytest.raises(TemplateError) as info:
        render(own_template("latin.j2"))
    assert "line 2 is not UTF-8 (byte 0xfc)" in info.value.message and "save the template as UTF-8" in info.value.hint


def test_syntax_error_in_system_template(render, templates):
    (templates / "system.md.j2").write_text("You write.\n{{ post.title }\n")
    with pytest.raises(TemplateError, match=f"^{templates}/system.md.j2:2: template syntax error"):
        render()


def test_undefined_variable_names_file_line_and_variable(render, templates):
    (templates / "strict.j2").write_text("Write {{ section.heading }}.\nIn a {{ vars.mood }} voice.\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("strict.j2"))
    assert info.value.message == f"{templates}/strict.j2:2: 'dict object' has no attribute 'mood'"
    assert "variables:" in info.value.hint and "vars." in info.value.hint


def test_undefined_top_level_name(render, templates):
    (templates / "strict.j2").write_text("One.\nTwo.\nThree {{ audience }}.\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("strict.j2"))
    assert info.value.message == f"{templates}/strict.j2:3: 'audience' is undefined"


def test_undefined_variable_in_an_included_template_names_the_included_file(render, templates):
    (templates / "parts.j2").write_text("Part one.\n{{ missing_name }}\n")
    (templates / "whole.j2").write_text("{% include 'parts.j2' %}\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("whole.j2"))
    assert info.value.message == f"{templates}/parts.j2:2: 'missing_name' is undefined"


def test_section_uses_its_own_template(render, templates):
    (templates / "faq.j2").write_text("FAQ block for {{ section.heading }} ({{ section.words }} words).\n")
    prompts = render(own_template("faq.j2"))
    assert [p.template for p in prompts] == ["section.md.j2", "section.md.j2", "faq.j2"]
    assert prompts[2].messages[1]["content"] == "FAQ block for Third (30 words)."
    assert prompts[0].messages[1]["content"].startswith('Write the section "First" (section 1 of 3).')


def test_section_variables_override_brief_variables(render, templates):
    (templates / "vars.j2").write_text("Tone {{ vars.tone }} for {{ vars.audience }}.\n")
    (templates / "system.md.j2").write_text("System tone {{ vars.tone }}.\n")
    text = BRIEF.replace("    words: 40\n", "    words: 40\n    template: vars.j2\n    variables: {tone: loud}\n", 1)
    prompts = render(own_template("vars.j2"), text=text)
    assert prompts[0].messages[1]["content"] == "Tone loud for developers."
    assert prompts[2].messages[1]["content"] == "Tone calm for developers."  # brief-level value elsewhere
    assert {p.messages[0]["content"] for p in prompts} == {"System tone calm."}  # sections never change it


@pytest.mark.parametrize("expression, refused", [
    ("{{ ''.__class__.__mro__ }}", "__class__"),
    ("{{ cycler.__init__.__globals__ }}", "__init__"),
    ("{{ vars.update({'tone': 'hacked'}) }}", "update"),
    ("{% set items = [1] %}{{ items.append(2) }}", "append"),
])
def test_sandbox_refuses_unsafe_operations(render, templates, expression, refused):
    (templates / "evil.j2").write_text(f"Harmless line.\n{expression}\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("evil.j2"))
    assert info.value.message.startswith(f"{templates}/evil.j2:2: unsafe template operation: ")
    assert refused in info.value.message and "sandboxed" in info.value.hint


@pytest.mark.parametrize("expression, error", [
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{% for i in range(10**9) %}{% endfor %}", "OverflowError"),
    ("{% include 'evil.j2' %}", "RecursionError"),
])
def test_failing_template_is_an_error_not_a_crash(render, templates, expression, error):
    (templates / "evil.j2").write_text(f"Harmless line.\n{expression}\n")
    with pytest.raises(TemplateError) as info:
        render(own_template("evil.j2"))
    assert info.value.message.startswith(f"{templates}/evil.j2:2: template failed: {error}")


@pytest.mark.parametrize("name", ["../../etc/passwd", "../templates/section.md.j2", "/etc/passwd"])
def test_template_paths_cannot_leave_the_templates_folder(templates, name):
    with pytest.raises(TemplateError, match="not found in"):
        render_template(make_environment(templates), name, {})


def test_brief_cannot_point_system_template_outside(project, write_brief):
    from pipeline.errors import BriefError

    with pytest.raises(BriefError, match=r":1:18: system_template: must be a file name inside the templates folder"):
        load_brief(write_brief("system_template: ../../etc/passwd\n" + BRIEF))


def test_every_section_shares_the_system_message_and_gets_its_own_user_message(render):
    prompts = render(own_template("section.md.j2"))
    systems = [p.messages[0] for p in prompts]
    users = [p.messages[1]["content"] for p in prompts]
    assert all(s == systems[0] for s in systems) and systems[0]["role"] == "system"
    assert "Post title: Prompts under test" in systems[0]["content"]
    assert len(set(users)) == 3
    for position, (heading, user) in enumerate(zip(["First", "Second", "Third"], users, strict=True), start=1):
        assert f'"{heading}" (section {position} of 3)' in user
    assert [p.messages[1]["role"] for p in prompts] == ["user"] * 3


def test_prompts_carry_their_sections_settings(render):
    first, second = render()
    assert (first.enable_thinking, second.enable_thinking) == (False, True)
    assert (first.target_words, second.target_words) == (40, 50)
    assert first.settings.penalty_context == first.settings.max_tokens == 60


def test_the_briefs_language_reaches_the_prompts_and_the_shipped_system_message(render):
    english = render()[0]
    assert english.language == "en" and "plain English." in english.messages[0]["content"]
    german = render(text="language: de\n" + BRIEF)[0]
    assert german.language == "de"
    assert "Write in the language whose code is de." in german.messages[0]["content"]
    assert "English" not in german.messages[0]["content"]


def test_a_template_can_list_what_the_other_sections_cover(render, templates):
    (templates / "aware.j2").write_text(
        "Write {{ section.heading }}.\n{% for other in outline_summaries if other.position != position %}"
        "- {{ other.heading }}: {{ other.summary }}\n{% endfor %}")
    prompts = render(own_template("aware.j2"))
    assert prompts[2].messages[1]["content"] == ("Write Third.\n- First: Say the first thing.\n"
                                                 "- Second: Say the second thing.")
