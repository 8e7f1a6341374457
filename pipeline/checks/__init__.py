"""Checks on model-written text, all pure (no I/O, no model) but `tokens` (the embedded model's reading of a
file for `pipeline check`), all on one set of text primitives:

- text: where sentences and clauses end, list markers, word counts, trimming, markdown -> safe HTML
- findings: Finding and its severities (ATTENTION, INFO)
- section: a finished section's checks (empty, leaked think markers, mid-sentence, length)
- collapse: the collapse detector, fed while tokens stream or on whole text
- numbers: numbers in prose (with their units) traced to the data, facts and sources
- links: links in prose traced to the sources
- files: `pipeline check FILE`, the checks on any markdown or text a person wants reviewed
"""

from .findings import ATTENTION, INFO, Finding
from .section import DEFAULT_THINK_MARKERS, check_section, think_leaks
from .text import ends_mid_sentence, markdown_html, trim_to_sentence, word_count

__all__ = ["ATTENTION", "DEFAULT_THINK_MARKERS", "INFO", "Finding", "check_section", "ends_mid_sentence",
           "markdown_html", "think_leaks", "trim_to_sentence", "word_count"]
