"""Nothing that executes reaches an output: Hugo shortcodes, Liquid, raw HTML and links that run
code, from model text or from data strings, are made inert in index.md (a Hugo/Jekyll page bundle)
and absent from index.html and the emails, while the visible text stays and the finding is recorded."""

from __future__ import annotations

import html
import json
import re
import textwrap

import markdown
import pytest

from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import MINIMAL_BRIEF, load_bench, opener_for

HOSTILE = {
    "hugo shortcode": ("Watch {{< youtube abc123 >}} for the demo.", "youtube abc123"),
    "hugo percent shortcode": ("{{% notice warning %}} Careful here. {{% /notice %}}", "notice warning"),
    "liquid include": ("Read {% include secrets.txt %} and {{ site.github.token }} now.", "include secrets.txt"),
    "liquid raw": ("{%- raw -%} stays text {%- endraw -%} here.", "stays text"),
    "shortcode in code": ("Type `{{< ref \"x\" >}}` to link.\n\n```\n{{< gist a b >}}\n{% include x %}\n```", "gist a b"),
    "script": ("<script>alert(1)</script>Plain words stay.", "Plain words stay."),
    "event handler": ('<img src=x onerror="alert(2)">The picture is gone.', "The picture is gone."),
    "javascript link": ("[click here](javascript:alert(3)) for more.", "click here"),
    "mixed case link": ("[click](JaVaScRiPt:alert(4)) again.", "again"),
    "entity-split link": ("[go](java&#115;cript:alert(5)) there.", "there"),
    "tab-split link": ("[go](jav&#x09;ascript:alert(6)) there.", "there"),
    "data link": ("[img](data:text/html;base64,PHNjcmlwdD4=) shown.", "shown"),
    "vbscript autolink": ("See <vbscript:msgbox(1)> now.", "now"),
    "reference link": ("Look [here][1].\n\n[1]: javascript:alert(7)", "Look"),
    # Where a parser reads the text differently from a line-by-line regex:
    "escaped scheme": ("[go](javascript\\:alert(8)) there.", "there"),  # CommonMark and kramdown drop the '\\'
    "tag over lines": ("Look <img\nsrc=x\nonerror=alert(9)> here.", "here"),
    "unbalanced code span": ("Try `` <img src=x onerror=alert(10)> ` now.", "now"),
    "inline code, not a fence": ("```js```\n<img src=x onerror=alert(11)>\n\nSafe words.", "Safe words"),
    "info line inside a fence": ("```\n```python\n```\n<svg onload=alert(12)>\n\nMore words.", "More words"),
    "tag rebuilt by removal": ("<scr<b>ipt>alert(13)</scr<b>ipt> Kept words.", "Kept words"),
    "handler in a code span": ("`<svg onload=alert(14)>` starts it.", "<svg onload=alert(14)>"),
    "raw javascript href": ('<a href="jav&#x09;ascript:alert(15)">tap</a> the text.', "the text"),
    # kramdown (Jekyll) sets any attribute from {: ...} and runs {::extensions}
    "kramdown attribute list": ('A paragraph.\n{: onclick="alert(16)"}', "A paragraph."),
    "kramdown extension": ("{::nomarkdown}<b>raw</b>{:/} Words.", "Words"),
    # A CommonMark renderer reads these as links and tags; a line-start regex and a quote-minded tag regex did not
    "reference in a quote": ("> Click [here][1] now.\n>\n> [1]: javascript:alert(17)", "Click"),
    "reference in a list": ("- Click [here][1] now.\n\n- [1]: javascript:alert(18)", "Click"),
    "reference in a numbered list": ("1. [1]: javascript:alert(19)\n\nClick [here][1] now.", "Click"),
    "escaped bracket label": ("Click [a\\]b] now.\n\n[a\\]b]: javascript:alert(20)", "Click"),
    "tab in an angle destination": ("[x](<java\tscript:alert(21)>) there.", "there"),
    "lone quote in a tag over lines": ("<div\ntitle=a'b onmouseover=alert(22)>hover me", "hover me"),
    "lone quote in an img over lines": ("<p\nclass=x>\n<img src=x alt=a'b\nonerror=alert(23)>", ""),
    "lone quote in details": ("<details\nopen title=a'b ontoggle=alert(24)>Shown.", "Shown"),
}
INVISIBLE = re.compile(r"[\s\x00-\x1f\u200b-\u200f\u2060\ufeff]")
output_fuzz = load_bench("output_fuzz")  # the one checker of outputs, shared with the fuzz benchmark


def check_outputs(draft_dir) -> None:
    assert output_fuzz.outputs_problems(draft_dir) == []


def visible(index_md: str) -> str:
    body = index_md.split("---\n", 2)[2]
    return html.unescape(markdown.markdown(body, extensions=["extra"])).replace("\u200b", "")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_model_text_that_would_execute_is_inert_everywhere(name, write_brief, project, fake):
    text, shown = HOSTILE[name]
    fake.default = text + " That is all. It ends here."
    result = run_brief(write_brief(), RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    check_outputs(result.draft_dir)
    index_md = (result.draft_dir / "index.md").read_text()
    assert shown in visible(index_md)
    # No scheme that runs code is left anywhere in the source, however it is escaped or split.
    plain = INVISIBLE.sub("", html.unescape(index_md.replace("\\", ""))).lower()
    assert not any(scheme in plain for scheme in ("javascript:", "vbscript:", "data:"))
    codes = {f.code for s in result.sections for f in s.findings}
    assert codes & {"unsafe_link", "template_syntax", "raw_html"}, codes


def newsletter_with_notes(project, notes: list[str]):
    (project / "briefs" / "notes.json").write_text(json.dumps([{"text": n} for n in notes]))
    (project / "templates" / "newsletter" / "notes.md.j2").write_text(
        "{% for row in data.notes %}\n- {{ row.text }}\n{% endfor %}\n")
    brief = project / "briefs" / "weekly.yaml"
    brief.write_text(textwrap.dedent("""\
        kind: newsletter
        title: Notes weekly
        week: 2026-W16
        sources:
          data:
            - {name: notes, path: notes.json, columns: {text: str}, whole_history: true}
        sections:
          - {heading: Notes, type: template, template: notes.md.j2}
          - {heading: Insight, instruction: Say one thing., words: 20}
        """))
    return brief


def test_data_strings_are_text_never_markup_in_every_output(project, fake):
    notes = [text for text, _ in HOSTILE.values()] + ['<img src="https://tracker.example/p.gif">']
    brief = newsletter_with_notes(project, notes)
    fake.default = "One calm sentence about the week. Another one."
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    check_outputs(result.draft_dir)
    assert not any(bit in (result.draft_dir / "email.txt").read_text() for bit in output_fuzz.TEMPLATE_SYNTAX)
    page = visible((result.draft_dir / "index.md").read_text())
    assert "youtube abc123" in page and "include secrets.txt" in page and 'onerror="alert(2)"' in page  # as text


def test_numbers_and_links_from_filters_are_printed_as_they_are(project, fake):
    """Only plain data strings are escaped; the formatting filters' output is not escaped twice."""
    (project / "templates" / "n.md.j2").write_text("{{ 1234.5 | signed }} {{ 38.1 | percent }} "
                                                  "[{{ 'a_b' | md_escape }}]({{ 'https://x.y/a b' | md_url }})\n")
    brief = project / "briefs" / "n.yaml"
    brief.write_text(MINIMAL_BRIEF.replace("sections:\n", "sections:\n  - {heading: N, type: template, template: n.md.j2}\n"))
    fake.default = "A plain sentence. Another one."
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    assert "+1,234.50 38.1% [a\\_b](https://x.y/a%20b)" in (result.draft_dir / "index.md").read_text()


def test_plain_text_email_shows_no_markdown_escapes(project, fake):
    brief = newsletter_with_notes(project, ["Set enable_thinking [x] off (always)."])
    fake.default = "One calm sentence about the week. Another one."
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    text = (result.draft_dir / "email.txt").read_text()
    assert "Set enable_thinking [x] off (always)." in text and "\\" not in text


def test_plain_text_email_keeps_code_as_written_and_autolinks_as_urls(project, fake):
    brief = newsletter_with_notes(project, ["A note."])
    fake.default = ("Run `sed 's/\\./,/'` on `a\\_b`, read <https://example.com/x> and [the docs](https://d.example). "
                    "It ends.")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    text = (result.draft_dir / "email.txt").read_text()
    assert "Run sed 's/\\./,/' on a\\_b, read https://example.com/x and the docs (https://d.example)." in text


def test_data_printed_whole_is_text_too(project, fake):
    """A list or a dict printed by {{ }} prints its strings: they are escaped like any data string."""
    brief = newsletter_with_notes(project, ['<img src=x onerror="alert(1)">', "{{< youtube x >}}"])
    (project / "templates" / "newsletter" / "notes.md.j2").write_text("Raw: {{ data.notes | map(attribute='text') | list }}\n")
    fake.default = "One calm sentence about the week. Another one."
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    check_outputs(result.draft_dir)
    assert 'onerror="alert(1)"' in visible((result.draft_dir / "index.md").read_text())
