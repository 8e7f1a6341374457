"""Kinds of draft: a new kind is one Kind subclass plus one registry entry, and the orchestrator,
the brief loader and the output all follow it without a branch on the kind."""

from __future__ import annotations

from pipeline.assemble import DraftSection, assemble_post
from pipeline.config import LoadedBrief
from pipeline.kinds import KINDS, Kind
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import MINIMAL_BRIEF, opener_for


class Memo(Kind):
    """A made-up third kind: filed by slug under memos/, assembled like a post."""

    name = "memo"
    folder = "memos"

    def key(self, loaded: LoadedBrief, sources) -> str:
        return loaded.brief.post_slug()

    def assemble(self, loaded: LoadedBrief, sources, sections: list[DraftSection], model: str, run_id: str):
        return assemble_post(loaded.brief, sections, model, run_id)


def test_a_new_kind_needs_only_its_class_and_a_registry_line(write_brief, project, fake, monkeypatch):
    monkeypatch.setitem(KINDS, "memo", Memo())
    brief = write_brief("kind: memo\n" + MINIMAL_BRIEF)
    fake.enqueue("Memory comes first on a small machine. Everything follows.",
                 "Keep every section short. Short sections stay coherent.")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    assert result.draft_dir == (project / "output/memos/memory-budgets-for-local-models").resolve()
    assert "Keep every section short." in (result.draft_dir / "index.md").read_text()
    assert result.status == "ok" and result.sources is None


def test_every_registered_kind_has_a_name_and_a_folder_of_its_own():
    assert set(KINDS) == {"post", "newsletter"}
    assert all(name == kind.name for name, kind in KINDS.items())
    assert len({kind.folder for kind in KINDS.values()}) == len(KINDS)
