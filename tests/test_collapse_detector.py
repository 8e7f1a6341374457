"""The collapse detector on labelled examples: hard coherent shapes must pass, each degenerate kind
must be caught near its onset, and streaming must agree with the whole-text verdict."""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import pytest

from pipeline.checks.collapse import CollapseDetector, detect_collapse

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"

COHERENT = {
    "parallel": "I measured the load time. I measured the first token. I measured the peak memory. "
                "I measured the steady decode rate. I measured it all again after a reboot, and the numbers held.",
    "packing list": "For the trip I packed a laptop, charger, cable, adapter, notebook, pens, bottle, headphones, "
                    "and a shirt, because conferences run long.",
    "tickers": "Watchlist: AAPL, MSFT, NVDA, AMZN, GOOGL, META, TSLA, AVGO, AMD, NFLX, SPY, QQQ, IWM, DIA, TLT. "
               "Most of them closed green on Friday.",
    "table": "| day | trades | pnl |\n|---|---|---|\n" + "".join(f"| d{i} | {i} | +{i}.0 |\n" for i in range(20)),
    "code": "```python\n" + "".join(f"value_{i} = compute({i})\n" for i in range(30)) + "```\nEach value is cached.",
    "refrain": "Every Monday I check the logs. Every Monday I prune the cache. Every Monday I read the drafts. "
               "It is dull, and it is why nothing breaks on Tuesday.",
    "short": "Memory is the budget.",
}
LOOP = "Memory matters because the model is large. " + "It is a topic that has been studied extensively. " * 12
CHAIN = ("The job needs careful stewardship: allocation, deallocation, retention, release, management, oversight, "
         "supervision, administration, governance, stewardship, control, regulation, direction, guidance")
SALAD = ("The plan was simple. the the system system management of of the oversight the the data of system "
         "system the of of management the the cache memory of the")
SOUP = ("I started the run. structures standpoint exhibits transform smooth receiver elements trends dermatitis "
        "Cornwall ends underneath harvested manually directors volcanic keyhak rude ensure decomposition broaden "
        "insects condemn quietly rename apes active viscous counsel fission")


@pytest.mark.parametrize("name", COHERENT)
def test_hard_coherent_shapes_do_not_fire(name):
    assert not detect_collapse(COHERENT[name]).detected


@pytest.mark.parametrize("text,signal,onset_text", [
    (LOOP, "loop", "It is a topic"),
    (CHAIN, "synonym_chain", "allocation"),
    (SALAD, "word_salad", "the the system"),
    (SOUP, "word_salad", "structures"),
    ("It began well. " + "zyme" * 30 + " and more", "loop", "zyme"),
])
def test_each_kind_is_caught_near_its_onset(text, signal, onset_text):
    verdict = detect_collapse(text)
    assert verdict.detected and verdict.signal == signal
    labelled = text.index(onset_text)
    assert abs(verdict.onset - labelled) <= 60  # characters
    assert verdict.fired_at >= verdict.onset


@pytest.mark.parametrize("text", [LOOP, CHAIN, SALAD, SOUP, COHERENT["table"]])
def test_streaming_in_small_pieces_agrees_with_whole_text(text):
    detector = CollapseDetector()
    for start in range(0, len(text), 3):
        detector.feed(text[start:start + 3])
    streamed = detector.finish()
    whole = detect_collapse(text)
    assert (streamed.detected, streamed.onset, streamed.signal) == (whole.detected, whole.onset, whole.signal)


def test_streaming_stops_judging_after_it_fires():
    detector = CollapseDetector()
    first = None
    for word in LOOP.split(" "):
        verdict = detector.feed(word + " ")
        if verdict.detected and first is None:
            first = verdict.fired_at
    assert detector.verdict.fired_at == first and first < len(LOOP) // 2


def test_verdict_reports_signal_values():
    verdict = detect_collapse(LOOP)
    assert set(verdict.signals) >= {"repeat_share", "unique_ratio", "chain_items", "run_on_words"}
    clean = detect_collapse(COHERENT["parallel"])
    assert clean.onset is None and clean.signals["repeat_streak"] < 20


def load(name):
    return [json.loads(line) for line in (CORPUS / name).read_text().split("\n") if line.strip()]


def test_handwritten_corpus_does_not_fire():
    coherent = load("coherent.jsonl")
    fired = [c["id"] for c in coherent if detect_collapse(c["text"]).detected]
    assert len(fired) <= 0.01 * len(coherent), fired


REAL = json.loads((Path(__file__).resolve().parent / "real_text" / "collapse_samples.json").read_text())


@pytest.mark.parametrize("item", REAL["coherent"], ids=lambda item: item["id"])
def test_real_sections_do_not_fire(item):
    """Real text nobody here wrote: READMEs, changelogs, docs, code, tables of numbers, and the
    sections that made the earlier detector fire (base64, names lists, language codes, doctests)."""
    verdict = detect_collapse(item["text"])
    assert not verdict.detected, (verdict.signal, item["text"][verdict.onset: verdict.onset + 120])


@pytest.mark.parametrize("item", REAL["degenerate"], ids=lambda item: item["id"])
def test_real_degenerate_output_fires_near_its_labelled_onset(item):
    """Real loops and salads of the embedded model and of random-weight models, some spliced after
    real text. Judged on text alone (no token counts): within ~60 tokens of characters either way
    of the label, and caught within ~350 characters of it."""
    verdict = detect_collapse(item["text"])
    assert verdict.detected
    expected = {"loop": {"loop"}, "word_salad": {"word_salad", "run_on"}}[item["kind"]]
    assert verdict.signal in expected
    assert -150 <= verdict.onset - item["onset"] <= 200
    assert verdict.fired_at - item["onset"] <= 350


def test_a_span_repeated_once_is_not_a_loop_but_a_third_time_is():
    """Changelogs and docs repeat a sentence or two verbatim; a model in a loop keeps going."""
    intro = ("The release fixes the cache eviction bug that made long runs slow down after an hour, "
             "and it adds a flag for the batch size so people can trade memory for speed on small machines. ")
    line = ("Run-time warnings should be added to notify users of the change; the feature is slated for removal "
            "in the next release after this one, so plan the migration now. ")
    once = intro + line + "Other notes follow here, with new words about packaging and docs. " + line
    assert not detect_collapse(once).detected
    thrice = once + line + line
    verdict = detect_collapse(thrice)
    assert verdict.detected and verdict.signal == "loop"


def test_a_short_cycle_is_a_loop_at_once():
    text = "Your role can be one or several of:\n\n  - User of some client application\n" + "  - Server\n" * 12
    verdict = detect_collapse(text)
    assert verdict.detected and verdict.signal == "loop"
    assert verdict.fired_at - text.index("  - Server") <= 100


def test_code_fences_are_judged_for_loops_only():
    code = "```python\n" + "".join(f"result_{i} = client.fetch(url_{i}, timeout=30) or None\n" for i in range(30)) + "```\n"
    assert not detect_collapse("Here is the loader.\n\n" + code + "It runs once a day.").detected
    soup = "```\n" + " ".join(f"xq{i}Zr Wv{i}kk" for i in range(40)) + "\n```\n"
    assert not detect_collapse("The raw dump:\n\n" + soup).detected
    looping = "```\n" + "while True: retry()\n" * 40 + "```\n"
    verdict = detect_collapse("The bad one:\n\n" + looping)
    assert verdict.detected and verdict.signal == "loop"


def test_invented_words_are_caught_by_their_token_cost_when_counts_are_given():
    """Token soup of invented words ("carbsscroll Tinwaraboutone ...") costs ~3+ tokens a word;
    English ~1.3. The signal needs token counts, which the generation loop passes."""
    import random

    rng = random.Random(7)
    english = "I wrote this section about the memory budget of the model on my Mac today.".split()
    invented = ["".join(rng.choice("aeioubcdfghklmnprstvwz") for _ in range(rng.randint(7, 13))) for _ in range(20)]
    words = english + invented
    fed = CollapseDetector()
    for word in words:
        fed.feed(word + " ", 1 if word in english else 4)  # as a tokenizer would split invented words
    assert fed.finish().detected and fed.verdict.signal == "word_salad"
    assert fed.verdict.onset >= len(" ".join(english)) - 20  # not in the English part
    plain = CollapseDetector()
    for word in "the model runs on the mac and the cache stays small for the whole night".split():
        plain.feed(word + " ", 1)
    assert not plain.finish().detected
    unknown = CollapseDetector()
    for word in words:
        unknown.feed(word + " ")  # no token counts (pipeline check on a file): only the slower soup signal
    assert not unknown.finish().detected or unknown.verdict.fired_at > fed.verdict.fired_at


def test_a_salads_start_is_where_the_text_turns_improbable():
    from pipeline.checks.collapse import onset_by_surprisal

    prose, salad = [2.5, 3.5, 1.5, 4.0] * 40, [9.0, 11.0, 8.0, 10.0] * 30  # nats a token: 2.9 then 9.5 on average
    nats = prose + salad
    # The text signals placed the onset 50 tokens into the salad and fired 100 tokens into it.
    assert onset_by_surprisal(nats, onset=210, fired=260) == 160
    assert onset_by_surprisal(salad, onset=40, fired=100) == 0  # improbable from the start
    drift = prose + [4.0, 5.0, 3.0, 5.0] * 30  # a salad of ordinary words is no more surprising than prose
    assert onset_by_surprisal(drift, onset=210, fired=260) is None


def test_a_loop_that_counts_is_still_a_loop_but_reference_boilerplate_is_not():
    """A model looping over an entry with a counter ("Issue #2", "#3", ...) repeats everything but the
    number: a loop. A reference page repeats one sentence under each function, with new text between:
    not one (it needs a much longer streak)."""
    counting = "0.2.12 (2018-06-19)\n======\n" + "".join(
        f"- Fixed some issues with the TrieChar.\n  (Issue #{n}, Thanks @fanc999 for the contribution.)\n" for n in range(1, 16))
    verdict = detect_collapse(counting)
    assert verdict.detected and verdict.signal == "loop"
    functions = [("itermonthdays", "simply be day of the month numbers, with zero outside the month"),
                 ("itermonthpairs", "tuples consisting of a day of the month number and a week day number"),
                 ("itermonthtriples", "tuples consisting of a year, a month and a day of the month numbers"),
                 ("itermonthquads", "tuples consisting of a year, a month, a day of the month and a week day")]
    reference = "".join(
        f"`{name}(year, month)`\n\nReturn an iterator for the month *month* in the year *year* similar to "
        f"`itermonthdates`, but not restricted by the `datetime.date` range. Days returned will be {rest}.\n\n"
        for name, rest in functions)
    assert not detect_collapse(reference).detected


def test_a_loop_of_numbers_is_judged_by_its_tokens_too():
    """SmolLM2 continuing a changelog: one timestamp over and over (real output, bench/corpus). Eleven
    rounds are only 22 words but ~180 tokens: with token counts it is a loop; by words alone, not yet."""
    text = "Recent changes to the `fontconfig` package:\n\n- " + "2022-09-04 12:22:11.133: " * 11
    ends, position = [], 0
    for word in text.split(" "):  # each timestamp word costs 8 tokens, as in SmolLM2's tokenizer
        step = max(len(word) // 8, 1)
        ends += [min(position + k * step, position + len(word)) for k in range(1, 8)] + [position + len(word) + 1]
        position += len(word) + 1
    ends = sorted({min(end, len(text)) for end in ends if end > 0})
    verdict = detect_collapse(text, token_ends=ends)
    assert verdict.detected and verdict.signal == "loop"
    assert not detect_collapse(text).detected


def test_the_same_text_under_new_headings_is_reference_but_under_the_same_heading_a_loop():
    """es5-shim's README repeats one paragraph under each method's list item: each name is new, so the
    repeat is how the page is written. The model repeating a heading with its paragraph is a loop."""
    paragraph = ("    Silently fails on all legacy engines.  This should be\n    fine unless you are depending on the "
                 "safety and security\n    provisions of this method, which you cannot possibly\n"
                 "    obtain in legacy engines.\n\n")
    methods = ["Object.seal", "Object.freeze", "Object.preventExtensions", "Object.isSealed"]
    reference = "Some methods cannot be shimmed:\n\n" + "".join(f"* {name}\n\n{paragraph}" for name in methods)
    assert not detect_collapse(reference).detected
    looping = "Some methods cannot be shimmed:\n\n" + "".join(f"* Object.freeze\n\n{paragraph}" for _ in methods)
    verdict = detect_collapse(looping)
    assert verdict.detected and verdict.signal == "loop"
    headed = "".join(f"#### {name}\n\n{paragraph}" for name in ["Summary"] * 4)
    assert detect_collapse(headed).detected


def test_salad_window_finds_the_first_improbable_stretch():
    """`pipeline check --read`: the first 32-token window averaging 8 nats a token or more."""
    from pipeline.checks.collapse import salad_window

    prose = [0.0] + [3.0] * 99
    assert salad_window(prose) is None
    # 5 tokens at 3 nats and 27 at 9 are the first window to average 8 or more: 258 / 32
    assert salad_window(prose[:40] + [9.0] * 40 + prose[:20]) == (35, 67, 8.0625)


OTHER_LANGUAGES = json.loads((Path(__file__).resolve().parent / "real_text" / "other_languages.json").read_text())


@pytest.mark.parametrize("item", OTHER_LANGUAGES["coherent"], ids=lambda item: item["id"])
def test_text_in_other_languages_is_not_word_salad(item):
    """Czech, Russian, Korean, Vietnamese ...: no English function words, and every word costs the English
    tokenizer ~3 tokens, which is what token soup looks like to English-built signals. Judged with the
    embedded tokenizer's counts, as generation and `pipeline check` judge."""
    from pipeline.checks.tokens import token_ends

    ends = token_ends(item["text"])
    assert ends, "the embedded tokenizer is needed: make setup"
    verdict = detect_collapse(item["text"], token_ends=ends)
    assert not verdict.detected, (verdict.signal, item["text"][verdict.onset: verdict.onset + 120])


@pytest.mark.parametrize("item", OTHER_LANGUAGES["written_in"], ids=lambda item: item["id"])
def test_text_in_the_language_the_brief_names_is_judged_without_englishs_signals(item):
    """Indonesian or Dutch written in ASCII looks like English to the detector: their function words are not
    English's (token soup), and a Swedish sentence of 46 words without a comma is a run-on by English's glue
    words. The brief's `language:` says what the text is; English's signals then stay out."""
    from pipeline.checks.tokens import token_ends

    ends = token_ends(item["text"])
    assert ends, "the embedded tokenizer is needed: make setup"
    as_english = detect_collapse(item["text"], token_ends=ends)
    assert as_english.detected and as_english.signal in {"word_salad", "run_on"}  # why the setting exists
    verdict = detect_collapse(item["text"], token_ends=ends, language=item["language"])
    assert not verdict.detected, (verdict.signal, item["text"][verdict.onset: verdict.onset + 120])


def test_loops_and_repetitive_salad_are_caught_in_any_language():
    """What judges every language: repeats (loops), few distinct words, words doubled ("the the")."""
    from pipeline.checks.collapse import is_english

    indonesian = next(i["text"] for i in OTHER_LANGUAGES["written_in"] if i["language"] == "id")
    first = indonesian.split("\n\n")[1]
    looped = detect_collapse(first + " " + (" ".join(first.split()[:30]) + " ") * 4, language="id")
    assert looped.detected and looped.signal == "loop" and looped.onset and looped.onset > len(first) - 200
    salad = ("Ich habe die Grenzen gemessen. die die System System Verwaltung der der die Aufsicht die die Daten "
             "der System System die der der Verwaltung die die Cache Speicher der die der der Grenze die die System "
             "der Steuerung die die Speicher der der System die die")
    verdict = detect_collapse(salad, language="de")
    assert verdict.detected and verdict.signal == "word_salad"
    assert [is_english(code) for code in ("en", "en-GB", "EN_us", "de", "pt-BR", "eng")] == [
        True, True, True, False, False, False]


def test_salad_and_loops_are_still_caught_around_other_scripts():
    """The other-language rules must not open a hole: a salad mixing scripts inside words ("Locа" with a
    Cyrillic a) after English with a foreign name or two is not "another language" (counted as one, it
    would switch soup off and pass), and a loop in Japanese (one unspaced 'word') is still a loop."""
    english = ("We met in Zürich and Kraków last year to compare how our models use memory, and the numbers "
               "we wrote down then still hold for the machine on my desk today. ")
    mixed = ("PleaseAstronamelatheroundLocа represents every environmentalreasonEconomomg guum constantly "
             "vaccж shieldsassesodicPP aggressivelyNear campscapes ratsiresяč receivermysqlnalsMich "
             "fonditérevCont Coxquoise docking augment Carbon faireropt raztus Flash commemorative equitable "
             "stainundi Guptaranç comparativelyatics Sami Carryarette Ophthalm")
    verdict = detect_collapse(english + mixed)
    assert verdict.detected and verdict.signal == "word_salad" and verdict.onset == len(english)
    japanese = "この章では、モデルのメモリ使用量について説明します。" + "同じ文を繰り返し" * 8
    verdict = detect_collapse(japanese + "\n\n" + japanese)
    assert verdict.detected and verdict.signal == "loop"


def test_a_table_row_of_repeated_cells_is_data_but_a_row_past_the_tables_width_is_a_loop():
    """Benchmark and support tables repeat cells ("| n/a | n/a |", "| ✅ | ✅ |") row after row; a row
    that keeps cycling past the width of the rows before it is a model stuck in the table."""
    header = "| function | shape | numba | numpy | bottleneck | pandas | ratio | notes | extra | more | last |\n"
    rule = "|---" * 11 + "|\n"
    names = ("sum", "mean", "std", "var", "min", "max", "argmin", "argmax", "median", "count", "nansum", "cumsum")
    rows = "".join(f"| `{name}` | ({(i * 7) % 13},) | {(i * 5) % 11}ms | " + "n/a | " * 7 + "1.00x |\n"
                   for i, name in enumerate(names))  # a row per function, not rows that count up
    table = "Results on the benchmark machine:\n\n" + header + rule + rows
    assert not detect_collapse(table).detected
    with gzip.open(CORPUS / "coherent_pypi.jsonl.gz", "rt", encoding="utf-8") as lines:
        real = {item["id"]: item["text"] for item in map(json.loads, lines)}
    for wide in ("pypi:numbagg@0.9.6:README#4", "pypi:cibuildwheel@4.3.5:README#0"):  # n/a and ✅ cells
        assert not detect_collapse(real[wide]).detected, wide
    runaway = table + "| `g` | (1,) | 1ms | " + "n/a | " * 40 + "\n"
    verdict = detect_collapse(runaway)
    assert verdict.detected and verdict.signal == "loop" and verdict.onset > len(table)


def corpus_texts(name: str) -> dict[str, str]:
    with gzip.open(CORPUS / name, "rt", encoding="utf-8") as lines:
        return {item["id"]: item["text"] for item in map(json.loads, lines)}


def assert_an_entry_four_times_loops(text: str, entry_start: str, next_entry: str) -> None:
    """The entry from `entry_start` up to `next_entry`, name and all, written four times: a loop from its
    first or second copy."""
    start = text.index(entry_start)
    entry = text[start: text.index(next_entry)]
    verdict = detect_collapse(text[:start] + entry * 4)
    assert verdict.detected and verdict.signal == "loop" and start <= verdict.onset < start + 2 * len(entry)


def assert_loop_caught_within(sample_id: str, tokens: int) -> None:
    """A real degenerate sample of bench/corpus, streamed as generated: a loop, stopped at most `tokens` past its
    labelled onset."""
    from pipeline.checks.tokens import token_ends

    item = next(item for item in load("degenerate.jsonl") if item["id"] == sample_id)
    ends = token_ends(item["text"])
    verdict = detect_collapse(item["text"], token_ends=ends)
    assert verdict.detected and verdict.signal == "loop", sample_id
    fired, onset = sum(end <= verdict.fired_at for end in ends), sum(end <= item["onset"] for end in ends)
    assert fired - onset <= tokens, (sample_id, fired - onset)


def test_the_same_words_four_times_back_to_back_are_a_loop_within_64_tokens():
    """SmolLM2 repeating one version line or timestamp (real output, bench/corpus, calibration split):
    few words to count, many tokens each. Four verbatim copies over 32+ tokens are a loop; the words-based
    tests waited 79 and 111 tokens past the first repeat."""
    for name in ("smollm2-cont-greedy-063", "smollm2-cont-greedy-078"):  # "*  1.0.0.0", "2018-01-22 11:22:22"
        assert_loop_caught_within(name, 64)


def test_a_line_written_three_times_is_text_but_four_times_a_loop():
    """Real text repeats itself thrice: a GCC changelog lists "PR target/96914 (ARM)," three times, axios's
    README lists one sponsor's block three times. A fourth copy of either is a loop."""
    from pipeline.checks.tokens import token_ends

    gcc = corpus_texts("coherent_real.jsonl.gz")["deb:libquadmath0/changelog.Debian.gz#26"]
    axios = corpus_texts("coherent_npm.jsonl.gz")["npm:axios@1.21.1#0"]
    start = axios.index('<a\n                href="https://opencollective.com/axios/contribute"')
    sponsor = axios[start: axios.index("<a", start + 2)]
    fourth = {gcc: gcc.replace("(ARM), PR rtl", "(ARM), PR target/96914 (ARM), PR rtl"),
              axios: axios.replace(sponsor * 3, sponsor * 4)}
    for text, looping in fourth.items():
        assert not detect_collapse(text, token_ends=token_ends(text)).detected
        verdict = detect_collapse(looping, token_ends=token_ends(looping))
        assert verdict.detected and verdict.signal == "loop"


def test_reference_entries_under_their_own_code_span_terms_are_not_a_loop():
    """Reference pages repeat a paragraph under each name they document (`LifoQueue(maxsize=0)`,
    `PriorityQueue(maxsize=0)`); a line that is one code span names what follows, as a heading does.
    A loop repeats its term too, and is still a loop."""
    docs = corpus_texts("coherent_pydocs.jsonl.gz")
    for entry in ("pydocs:library/queue#0", "pydocs:library/importlib.resources#1", "pydocs:library/urllib.request#3"):
        assert not detect_collapse(docs[entry]).detected, entry
    assert_an_entry_four_times_loops(docs["pydocs:library/queue#0"], "`LifoQueue(maxsize=0)`", "`PriorityQueue(maxsize=0)`")


def test_commits_that_repeat_their_message_under_new_subjects_are_not_a_loop():
    """A changelog of security fixes repeats one paragraph under each commit's own subject line (a short
    paragraph of its own, as a heading is); a model that repeats the whole commit, subject and all, loops."""
    log = corpus_texts("coherent_real.jsonl.gz")["deb:libxext-dev/changelog.gz#1"]
    assert not detect_collapse(log).detected
    assert_an_entry_four_times_loops(log, "commit 96d1da55", "commit 082d70b1")


def test_a_long_sentence_that_ends_as_one_is_not_a_run_on_but_a_ramble_that_goes_on_or_breaks_off_is():
    """READMEs and reference tables hold sentences of 30-45 words without a comma ("This option is useful
    if you provide a versioned library that targets Baseline Widely available on each version's release
    date and ..."). Held together by function words and ended by a period, they are sentences; the
    model's fluent rambles run on past 45 words or break off without an end."""
    real = {**corpus_texts("coherent_npm.jsonl.gz"), **corpus_texts("coherent_pypi.jsonl.gz"),
            **corpus_texts("coherent_debdocs.jsonl.gz")}
    for name in ("npm:baseline-browser-mapping@2.11.41#3", "pypi:pyright@1.1.414:README#1",
                 "deb:sqlite3-doc:opcode.html#7", "deb:debian-reference-en:ch01:2#2"):
        verdict = detect_collapse(real[name])
        assert not verdict.detected, (name, verdict.signal)
    opening = "We tuned the cache last week. "
    ramble = ("it is the way that we all want to go when the time comes for us to be there with the people who "
              "matter and the things that we do for them in the end are what make us who we are and what we "
              "will be for the rest of the days that come after this one")
    for text in (opening + ramble + ".", opening + " ".join(ramble.split()[:36]) + "\n\nAnd so on."):
        verdict = detect_collapse(text)
        assert verdict.detected and verdict.signal == "run_on" and verdict.onset == len(opening), text
    assert not detect_collapse(opening + " ".join(ramble.split()[:36]) + ".").detected


def test_a_long_sentence_that_opens_an_aside_goes_on_and_is_not_a_run_on():
    """The Debian Administrator's Handbook and the Securing Debian Manual: 31-39 words without a comma, then
    "(see #794466)." or "(like `shorewall` or `fwbuilder`)." An opening bracket carries the sentence on, as a
    comma does; the model's ramble that breaks off at a blank line is still a run-on."""
    books = corpus_texts("coherent_debprose.jsonl.gz")
    for name in ("deb:debian-handbook:sect.virtualization.html#0", "deb:harden-doc:firewall-setup.html#3"):
        verdict = detect_collapse(books[name])
        assert not verdict.detected, (name, verdict.signal)
    opening = "We tuned the cache last week. "
    ramble = ("it is the way that we all want to go when the time comes for us to be there with the people who "
              "matter and the things that we do for them in the end are what make us who we are")
    verdict = detect_collapse(opening + ramble + "\n\nAnd so on.")
    assert verdict.detected and verdict.signal == "run_on" and verdict.onset == len(opening)


def test_a_code_span_that_opens_a_long_line_names_what_follows():
    """The kernel's pixel-format page repeats one description under each format it documents, on the line
    the format's name opens (`V4L2_PIX_FMT_NV12_16L16` stores pixels in 16x16 tiles, ...): a new name, as
    a heading is, however long its line. The same entry, name and all, four times is a loop."""
    page = corpus_texts("coherent_debprose.jsonl.gz")["deb:linux-doc-6.1:userspace-api/media/v4l/pixfmt-yuv-planar.rst#2"]
    assert not detect_collapse(page).detected
    assert_an_entry_four_times_loops(page, "`V4L2_PIX_FMT_NV12_4L4`", "`V4L2_PIX_FMT_NV12_16L16`")


def test_the_embedded_models_long_sentence_is_not_a_run_on():
    """The embedded model's own output for the example post (2026-12-06), stopped as a run-on before this
    rule and retried: 33 words without a comma, held together by "during", "may", "such as", "because"."""
    text = ("The main point to consider when evaluating memory vs. CPU speed is that a 35 GB model on a 64 GB Mac "
            "has limited capacity for data processing, as only 9GB of available RAM can be used at once, which makes "
            "each token require a significant amount of power and resources. This limitation allows for maximum "
            "performance but also limits overall utilization compared to other models. In this scenario, the "
            "2-second sleep cycle during peak loads may not leave enough time for data storage or even for some "
            "applications such as AI because these tasks are typically performed by AI models that run on GPUs.")
    assert not detect_collapse(text).detected


def test_lists_of_formats_flags_and_package_names_are_not_synonym_chains():
    """"jpeg, png, gif, tiff, rgb, pbm, ...", "clang-format, clang-tidy, libomp-dev, ...", CPU flags: comma
    runs of short or costly names, not of words. Judged with the embedded tokenizer's counts; a chain of
    synonyms is still one, with counts and without."""
    from pipeline.checks.tokens import token_ends

    real = {**corpus_texts("coherent_pydocs.jsonl.gz"), **corpus_texts("coherent_real.jsonl.gz"),
            **corpus_texts("coherent_pypi.jsonl.gz")}
    for name in ("pydocs:library/email.mime#1", "deb:llvm/changelog.gz#2", "pypi:py-cpuinfo2@10.1.1:README#0"):
        verdict = detect_collapse(real[name], token_ends=token_ends(real[name]))
        assert not verdict.detected, (name, verdict.signal)
    for counts in (token_ends(CHAIN), None):
        verdict = detect_collapse(CHAIN, token_ends=counts)
        assert verdict.detected and verdict.signal == "synonym_chain"


def test_a_restructuredtext_simple_table_is_a_table_and_salad_after_it_is_still_salad():
    """"=====  =====" rules with rows between them and no "|": the rows repeat cells ("malloc + debug")
    as a table's rows do. The table ends at a blank line; a salad there is judged as text again."""
    table = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:c-api/memory#3"]
    assert not detect_collapse(table).detected
    start = table.index("Default memory allocators:")
    end = table.index("\n\n", table.index("=====", table.index("Release build", start)) + 1)
    text = table[:end] + "\n\n" + SOUP
    verdict = detect_collapse(text)
    assert verdict.detected and verdict.signal == "word_salad" and verdict.onset > end
    rng = random.Random(7)  # streamed in random pieces, the table and its end are found as in the whole text
    for _ in range(20):
        detector, start = CollapseDetector(), 0
        while start < len(text):
            step = rng.randint(1, 16)
            detector.feed(text[start: start + step])
            start += step
        streamed = detector.finish()
        assert (streamed.detected, streamed.onset, streamed.signal) == (True, verdict.onset, "word_salad")


def test_command_synopses_and_type_unions_are_not_token_soup():
    """"update [--init] [--remote] [-N|--no-fetch] ... [--reference <repository>]" and
    "{ReadableStreamDefaultController|ReadableByteStreamController}": options, placeholders and types."""
    docs = corpus_texts("coherent_debdocs.jsonl.gz")
    for name in ("deb:git-doc:git-submodule.txt#1", "deb:nodejs-doc:webstreams.md#1"):
        verdict = detect_collapse(docs[name])
        assert not verdict.detected, (name, verdict.signal)
    assert detect_collapse("I started the run. " + SOUP[19:].replace("transform", "--transform")).detected


def test_an_example_shown_twice_is_not_a_loop_but_a_third_time_is():
    """Node's docs give each example twice, as ES module and as CommonJS, 200 words apiece; a model that
    writes the block a third time is looping."""
    doc = corpus_texts("coherent_debdocs.jsonl.gz")["deb:nodejs-doc:buffer.md#0"]
    assert not detect_collapse(doc).detected
    start = doc.index("```cjs")
    block = doc[start: doc.index("```", start + 6) + 4]
    verdict = detect_collapse(doc[:start] + block * 3)
    assert verdict.detected and verdict.signal == "loop" and verdict.fired_at < start + 3 * len(block)


def test_acronyms_repeated_parameters_and_rows_named_by_two_cells_are_text():
    """Debian Reference's terse technical prose ("Modern desktop system may mount removable media such as
    ISO9660 formatted CD automatically"), a signature list ("date(time-value, modifier, modifier, ...)")
    and SQLite's table of changes keyed by two cells ("| DELETE | UPDATE |", "| DELETE | DELETE |")."""
    docs = corpus_texts("coherent_debdocs.jsonl.gz")
    for name in ("deb:debian-reference-en:ch09:7#4", "deb:sqlite3-doc:lang_datefunc.html#0",
                 "deb:sqlite3-doc:session/sqlite3changegroup_add.html#0"):
        verdict = detect_collapse(docs[name])
        assert not verdict.detected, (name, verdict.signal)
    assert detect_collapse("Checks passed. the the memory of of the cache the the system was").detected


def test_names_that_differ_in_a_digit_are_new_names_but_a_heading_that_counts_is_not():
    """`keyword.isReservedWordES5` and `...ES6`, `PROTOCOL_TLSv1_1` and `..._2` are different entries of a
    reference page; "## Step 2", "## Step 3" over the same paragraph is a model counting in a loop."""
    real = {**corpus_texts("coherent_npm.jsonl.gz"), **corpus_texts("coherent_pydocs.jsonl.gz")}
    for name in ("npm:esutils@2.0.3#2", "pydocs:library/ssl#8"):
        verdict = detect_collapse(real[name])
        assert not verdict.detected, (name, verdict.signal)
    paragraph = ("Open the settings file, set the cache size to half of the memory you have, save it, and run "
                 "the build again so the new limit takes effect before the next section is written.\n\n")
    text = "# Setup\n\nWe start from a clean machine.\n\n" + "".join(f"## Step {n}\n\n{paragraph}" for n in range(1, 6))
    verdict = detect_collapse(text)
    assert verdict.detected and verdict.signal == "loop"


def test_settings_printed_without_punctuation_are_not_a_run_on():
    """SQLite's shell prints `defensive 0 dqs_ddl 1 dqs_dml 1 enable_fkey 0 ...`: snake_case names break a
    run as punctuation does. Thirty plain words without punctuation and function words still are one."""
    doc = corpus_texts("coherent_debdocs.jsonl.gz")["deb:sqlite3-doc:tclsqlite.html#5"]
    assert not detect_collapse(doc).detected
    run = " ".join(["alpha beta gamma delta epsilon zeta eta theta iota kappa"] * 3)
    verdict = detect_collapse("The names follow. " + run + " lambda mu nu xi omicron")
    assert verdict.detected and verdict.signal in ("run_on", "word_salad")


def test_table_rows_named_by_their_first_cell_may_share_a_long_description():
    """PostgreSQL's probe table repeats "arg0 and arg1 contain the fork and block numbers of the page ..."
    row after row, each row under its own name; rows that repeat their name too, or only count it up,
    are a model stuck in the table."""
    table = corpus_texts("coherent_debdocs.jsonl.gz")["deb:postgresql-doc-15:dynamic-trace.html#3"]
    assert not detect_collapse(table).detected
    row = next(line for line in table.splitlines() if line.startswith("| `smgr-md-read-done`")) + "\n"
    head = table[: table.index(row)]
    for stuck in (row * 4, "".join(row.replace("smgr-md-read-done", f"probe-{n}") for n in range(4))):
        verdict = detect_collapse(head + stuck)
        assert verdict.detected and verdict.signal == "loop" and verdict.onset >= len(head), stuck[:60]


def test_a_long_first_cell_still_names_its_row():
    """GnuCash's tax-form table (seventh set, calibration) names each row by a 9-word first cell ("**F1040 \\**
    N612 Fed tax withheld, Social Security, spouse") and repeats most of the description; a row written
    four times over is still a loop."""
    table = corpus_texts("coherent_numdocs.jsonl.gz")["deb:gnucash-docs:gnucash-help-en/set-tax-options.html#5"]
    assert not detect_collapse(table).detected
    row = next(line for line in table.splitlines() if "N612 Fed tax withheld" in line) + "\n"
    head = table[: table.index(row)]
    verdict = detect_collapse(head + row * 4)
    assert verdict.detected and verdict.signal == "loop" and verdict.onset >= len(head)


def test_the_same_output_printed_thrice_in_code_is_no_short_cycle():
    """pandas' guide prints one frame three times (np.abs, "abs", a lambda: the same result) and its rows of NaN
    end each copy with three distinct words (seventh set, calibration); in code a short cycle must hold for
    its whole 24-word run, as 24 words of "NaN" would."""
    from pipeline.checks.tokens import token_ends

    text = corpus_texts("coherent_numdocs.jsonl.gz")["deb:python-pandas-doc:user_guide/basics.html:6#5"]
    assert not detect_collapse(text, token_ends=token_ends(text)).detected
    stuck = "```\nIn [1]: frame\nOut[1]:\n" + "2000-01-04       NaN       NaN\n" * 16 + "```\n"
    verdict = detect_collapse("The frame:\n\n" + stuck)
    assert verdict.detected and verdict.signal == "loop"


def test_a_sparse_matrix_in_display_math_is_no_loop_but_what_follows_it_is_judged():
    """statsmodels' factor model writes its matrices out in LaTeX, rows of "0 & 0 & 0 \\\\" (seventh set,
    reserve), and SciPy's integration tutorial a 14x14 pattern of "0" and "*" (calibration): display math is
    judged like code, for short cycles of words only. It ends at its closing delimiter or a blank line,
    so a loop or salad after it, or a stray "\\[" in prose, is judged as before."""
    from pipeline.checks.tokens import token_ends

    texts = corpus_texts("coherent_numdocs.jsonl.gz")
    for key in ("deb:python-statsmodels-doc:examples/notebooks/generated/statespace_dfm_coincident.html:8#1",
                "deb:python-scipy-doc:tutorial/integrate.html:7#3"):
        assert not detect_collapse(texts[key], token_ends=token_ends(texts[key])).detected, key
    matrix = texts["deb:python-statsmodels-doc:examples/notebooks/generated/statespace_dfm_coincident.html:8#1"]
    loop = "The factor loads on income with a lag of 2 months and a weight of 0.4 in the model. " * 5
    for after in ("\n\n" + loop, "\n\nAs \\[x\n\n" + loop):
        verdict = detect_collapse(matrix + after, token_ends=token_ends(matrix + after))
        assert verdict.detected and verdict.signal == "loop" and verdict.onset >= len(matrix), after[:20]
    stuck = "\\[\\begin{bmatrix}\n" + "\\lambda & 0 & \\lambda & 0 & " * 10 + "\n\\end{bmatrix}\\]"
    verdict = detect_collapse("The loadings are:\n\n" + stuck)
    assert verdict.detected and verdict.signal == "loop"


def test_a_line_of_display_math_that_names_something_eight_times_over_is_a_loop():
    """SmolLM2 writing `\\sin\\nu'` on 26 lines of an unclosed `\\[` (the eleventh batch, missed when judged blind):
    in display math only short cycles of words were judged. A line with a letter in it eight times back to back is a
    loop there too; the rows of a zero matrix ("0 & 0 \\\\") are not, nor are the corpus's matrices above."""
    assert_loop_caught_within("smollm2-cont11-greedy-050", 64)
    zeros = "\\[\\begin{bmatrix}\n" + "0 & 0 & 0 & 0 \\\\\n" * 12 + "\\end{bmatrix}\\]"
    assert not detect_collapse("The empty loadings:\n\n" + zeros + "\n\nThe model then fits the rest.").detected
    named = "\\[\\begin{bmatrix}\n" + "\\lambda_1 & 0 \\\\\n" * 7 + "\\end{bmatrix}\\]"
    assert not detect_collapse("Seven rows alike:\n\n" + named + "\n\nThe model then fits the rest.").detected


def test_the_same_fenced_block_four_times_back_to_back_is_a_loop():
    """SmolLM2 writing "```c / #define VARHDRSZ 40 / ```" fourteen times (the twelfth batch, missed when judged blind): a
    block of code is judged for loops of its own lines, not for copies of itself. The same block four times in a row is
    a loop; three times, or four with prose between, or four blocks that differ, is a page of examples."""
    assert_loop_caught_within("smollm2-cont12-greedy-022", 64)
    block = "```c\n#define VARHDRSZ 40\n```\n\n"
    lead = "Set the header size once, at the top of the file:\n\n"
    verdict = detect_collapse(lead + block * 4 + "That is all.")
    assert verdict.detected and verdict.signal == "loop" and verdict.onset == len(lead + block)
    assert not detect_collapse(lead + block * 3 + "That is all, and the rest of the file stays as it was.").detected
    files = ("the parser", "the writer's buffer code", "each test fixture", "and last, the benchmark harness")
    assert not detect_collapse(lead + "".join(f"{block}Then in {name}:\n\n" for name in files) + block).detected
    assert not detect_collapse(lead + "".join(f"```c\n#define VARHDRSZ {n}\n```\n\n" for n in range(4))).detected


def test_a_table_row_four_times_over_is_a_loop_three_times_is_a_grid_table():
    """SmolLM2 stuck in a table (third batch of continuations, reserve): R's index table continued with empty
    rows, and a `configure` row written again and again; table rows are judged like code, so neither was
    caught (or only 264 tokens late). Python's strftime grid table has three identical empty rows back to back
    (a cell's blank continuation lines), the most any real table in the corpus has; a fourth is a loop. A grid
    table's "+-----+" rule between two rows leaves them back to back (the sixth batch, held-out, after its blind run)."""
    from pipeline.checks.tokens import token_ends

    for key in ("smollm2-cont3-greedy-016", "smollm2-cont3-greedy-002"):
        assert_loop_caught_within(key, 48)
    assert_loop_caught_within("smollm2-cont6-greedy-044", 64)  # "| string (str) | str |", a "+---+" rule between
    table = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:library/time#3"]
    assert not detect_collapse(table, token_ends=token_ends(table)).detected
    lines = table.split("\n")
    empty = next(i for i in range(1, len(lines)) if lines[i].strip() == lines[i - 1].strip() and lines[i].startswith("|"))
    stuck = "\n".join(lines[: empty + 1] + lines[empty - 1: empty + 1] + lines[empty + 1:])
    verdict = detect_collapse(stuck, token_ends=token_ends(stuck))
    assert verdict.detected and verdict.signal == "loop"


def test_two_table_rows_coming_round_three_times_are_a_loop():
    """SmolLM2 writing Debian's `gpg` and `gpgv` rows in turn, to the cap (seventh batch, held-out, read after its
    blind run): each row differs from the one before it, so the repeated-row test (one row, 4 times) never counted.
    A block of 2 or 3 rows three times back to back is a loop; no table of the calibration split repeats such a
    block even twice, so the same two rows of a real table written twice over stay a table."""
    from pipeline.checks.tokens import token_ends

    assert_loop_caught_within("smollm2-cont7-greedy-038", 256)
    table = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:library/time#3"]
    pair = "| `%A`    | Locale's full weekday name.                    |       |\n"
    rule = "+-----------+------------------------------------------------+-------+\n"
    block = pair + rule + "| `%b`    | Locale's abbreviated month name.               |       |\n"
    assert block in table
    twice = table.replace(block, block + rule + block)
    assert not detect_collapse(twice, token_ends=token_ends(twice)).detected
    thrice = table.replace(block, block + rule + block + rule + block)
    verdict = detect_collapse(thrice, token_ends=token_ends(thrice))
    assert verdict.detected and verdict.signal == "loop"


def test_empty_code_blocks_opened_and_closed_four_times_are_a_loop():
    """SmolLM2 opening and closing empty code blocks (seventh batch, reserve, read after its blind run): a fence is
    code and one word, so no test counted it. Eight fences in a row with nothing between them are a loop; R's manual
    has four (a block closed, an empty one, another opened), the most of any real text in the corpus."""
    from pipeline.checks.tokens import token_ends

    assert_loop_caught_within("smollm2-cont7-t07-035", 32)
    manual = corpus_texts("coherent_numdocs.jsonl.gz")["deb:r-doc-html:R-exts.html:63#6"]
    assert "```\n\n```\n\n```\n\n```" in manual
    assert not detect_collapse(manual, token_ends=token_ends(manual)).detected
    stuck = manual.replace("```\n\n```\n\n```\n\n```", "```\n\n```\n\n" * 4 + "```\n\n```")
    verdict = detect_collapse(stuck, token_ends=token_ends(stuck))
    assert verdict.detected and verdict.signal == "loop"


def test_a_code_line_eight_times_over_is_a_loop_five_times_is_program_output():
    """SmolLM2 writing `"print " + subprocess.Popen(` line after line in a code block (fourth batch, held-out; read
    after its blind run): in code only a 160-word run or a 3-word cycle was a loop, so it ran to the cap. The
    Python FAQ's threading example prints "Running worker" five times, the most any real code block in the
    calibration split repeats a line; eight copies of a line of two or more words are a loop."""
    from pipeline.checks.tokens import token_ends

    assert_loop_caught_within("smollm2-cont4-greedy-007", 64)
    faq = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:faq/library#5"]
    assert not detect_collapse(faq, token_ends=token_ends(faq)).detected
    stuck = faq.replace("Running worker\n" * 5, "Running worker\n" * 8)
    verdict = detect_collapse(stuck, token_ends=token_ends(stuck))
    assert verdict.detected and verdict.signal == "loop" and stuck[verdict.onset:].startswith("Running worker")


def test_streamed_in_random_pieces_it_judges_any_text_as_it_judges_it_whole():
    """Seeded fuzz: real text of every kind (people's, degenerate, other languages) cut and spliced with
    odd characters (tabs, \\r, NBSP, U+2028, zero-width spaces, combining marks, emoji, CJK, pipes,
    fences), fed in random pieces of 1-16 characters: no exception, and the verdict of the whole text.
    (One difference is by design: streaming judges a long glued word before it ends, so a markup
    character arriving later in the same word cannot clear it; these seeded texts do not hit that.)"""
    rng = random.Random(20261206)
    # the samples as they stood when the seed was chosen: a later batch would otherwise shift which texts it draws
    seeded = [item for item in load("degenerate.jsonl") if (item.get("batch") or "") <= "2026-12-07g"]
    sources = [item["text"] for item in seeded[:150]] + [item["text"] for item in load("coherent.jsonl")]
    sources += [item["text"] for item in OTHER_LANGUAGES["coherent"]]
    odd = ["\t", "\r\n", "\xa0", "\u2028", "\u200b", "e\u0301", "🙂", "日本語", " | ", "\n| a | b |\n", "\n```\n", "`x`", "—"]
    for _ in range(120):
        parts = []
        for _ in range(rng.randint(1, 6)):
            text = rng.choice(sources)
            start = rng.randrange(len(text))
            parts.append(text[start: start + rng.randint(20, 900)])
            parts.extend(rng.choice(odd) for _ in range(rng.randint(0, 3)))
        text = "".join(parts)
        detector, start = CollapseDetector(), 0
        while start < len(text):
            step = rng.randint(1, 16)
            detector.feed(text[start: start + step])
            start += step
        streamed, whole = detector.finish(), detect_collapse(text)
        assert (streamed.detected, streamed.onset, streamed.signal) == (whole.detected, whole.onset, whole.signal), text


def test_a_line_of_tildes_under_a_heading_underlines_it_and_opens_no_code_block():
    """reStructuredText underlines headings with `~~~~`; read as a code fence, everything after it was
    judged as code (loops only) and a salad there went unseen. After a blank line it is still a fence."""
    heading = "Extra CLI Options\n~~~~~~~~~~~~~~~~~\n\nThe delimiter defaults to a newline.\n\n"
    assert detect_collapse(heading + SOUP).detected
    assert not detect_collapse("Example:\n\n~~~~\n" + SOUP[19:] + "\n~~~~\n").detected  # a real fence: code


def test_a_long_passage_written_again_at_once_is_a_loop_at_its_second_copy():
    """SmolLM2 writing a 20-40-word paragraph over and over (third and fourth batches, read after their blind runs):
    the loop tests waited for its third time round, 67-83 tokens past the first repeat. A passage of 16+ words
    written again word for word straight after itself is a loop at its second copy (no calibration section does
    it; at 12 words Python's `operator` page does, a column of `eq(a, b)`, `ne(a, b)`, ... under its functions)."""
    from pipeline.checks.tokens import token_ends

    for key in ("smollm2-cont3-greedy-054", "smollm2-cont4-greedy-019", "smollm2-cont4-greedy-030"):
        assert_loop_caught_within(key, 48)
    operators = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:library/operator#0"]
    assert not detect_collapse(operators, token_ends=token_ends(operators)).detected
    prose = corpus_texts("coherent_real.jsonl.gz")["pypi:awscli:METADATA#0"]
    sentence = "This package provides a unified command line interface to Amazon Web\nServices.\n\n"
    twice = prose.replace(sentence, sentence * 2)  # 12 words: a refrain, not a loop
    assert not detect_collapse(twice, token_ends=token_ends(twice)).detected
    passage = ("This README is for the AWS CLI version 1. If you are looking for\ninformation about the AWS CLI version 2, "
               "please visit the `v2\nbranch <https://github.com/aws/aws-cli/tree/v2>`__.\n")
    stuck = prose.replace(passage, passage * 2)  # 26 words, again at once
    verdict = detect_collapse(stuck, token_ends=token_ends(stuck))
    second = stuck.index(passage) + len(passage)
    assert verdict.detected and verdict.signal == "loop" and verdict.onset == second
    assert verdict.fired_at < second + len(passage)  # before its third time round


def test_lines_counting_up_eight_times_are_a_loop_five_times_a_version_list():
    """SmolLM2 counting in a loop (third to sixth batches, reserve and held-out, read after their blind runs):
    "## Filtro no Apache 2.0" and a sentence naming 2.0, then 2.1, 2.2, ...; "## New feature for v5.14.0", v5.15.0,
    ... (some written twice); R's operator table with rows "| 1 | Minus, can be unary or binary |", "| 2 | ..." to
    the cap. Every copy differs, so no repeat test saw them. Real text counts too: AWS CLI's README lists five
    Python versions ("3.10.x and greater" to "3.14.x ..."), R's API index has `lang1` to `lang6` over one
    description; six copies were the most in the calibration split. Eight are a loop. In a table only a count that
    moves alone: PostgreSQL's encoding table names each row twice (`LATIN3` | *LATIN3*) up to WIN1258."""
    from pipeline.checks.tokens import token_ends

    for key in ("smollm2-cont3-greedy-042", "smollm2-cont5-greedy-008", "smollm2-cont5-greedy-036",
                "smollm2-cont6-greedy-058"):
        assert_loop_caught_within(key, 320)
    encodings = corpus_texts("coherent_debdocs.jsonl.gz")["deb:postgresql-doc-15:multibyte.html#5"]
    assert "| `LATIN10` | *LATIN10*, `UTF8` |" in encodings
    assert not detect_collapse(encodings, token_ends=token_ends(encodings)).detected
    rows = "".join(f"| `LATIN{n}` | *LATIN{n}*, `UTF8` |\n" for n in range(5, 15))  # ten rows: the index in two cells
    more = encodings.replace("| `LATIN5` | *LATIN5*, `UTF8` |\n", rows)
    assert not detect_collapse(more, token_ends=token_ends(more)).detected
    alone = re.sub(r"\| `LATIN\d+` \|", "| `LATIN` |", more)  # the count in one cell only: the rest the same
    verdict = detect_collapse(alone, token_ends=token_ends(alone))
    assert verdict.detected and verdict.signal == "loop"
    prose = corpus_texts("coherent_real.jsonl.gz")["pypi:awscli:METADATA#0"]
    assert not detect_collapse(prose, token_ends=token_ends(prose)).detected
    versions = "".join(f"-  3.{minor}.x and greater\n" for minor in range(10, 15))
    assert versions in prose
    counted = prose.replace(versions, "".join(f"-  3.{minor}.x and greater\n" for minor in range(10, 18)))
    verdict = detect_collapse(counted, token_ends=token_ends(counted))
    assert verdict.detected and verdict.signal == "loop" and counted[verdict.onset:].startswith("-  3.11.x")


def test_a_line_that_ends_in_spaces_still_ends_its_line():
    """SmolLM2 writing "#define MAX_LEN_IN_FLOAT " eleven times in a C block (the fifteenth batch, missed when judged
    blind): a word followed by a space and then the line break was taken to go on on the same line, so the code-line
    test never saw a line end and the block ran to the cap. Markdown's hard breaks ("text  \\n") end lines too."""
    assert_loop_caught_within("smollm2-cont15-greedy-032", 192)
    lead = "Set the limits once, at the top of the file:\n\n```c\nint limit = 1;\n"
    verdict = detect_collapse(lead + "#define MAX_LEN_IN_FLOAT \n" * 9 + "```\n")
    assert verdict.detected and verdict.signal == "loop"
    assert not detect_collapse(lead + "#define MAX_LEN_IN_FLOAT \n" * 5 + "```\n").detected  # program output: 5 at most
    pieces = CollapseDetector()  # streamed with the space and the line break in separate pieces
    for piece in [lead] + ["#define MAX_LEN_IN_FLOAT", " ", "\n"] * 9:
        pieces.feed(piece)
    assert pieces.finish().detected


def test_a_count_in_a_one_word_table_row_is_a_loop_at_sixteen_copies():
    """SmolLM2 filling Apache httpd's MPM table with "| Apache 3 | 1.0.0 |", "| Apache 4 | 1.0.0 |", ... (the fifteenth
    batch, missed when judged blind): a counted line needs two words with letters, since real text counts one-word
    lines ("- 3.8", "- 3.9"; BIND's manual lists the reverse zones "- 16.172.IN-ADDR.ARPA" to 31). A table row whose
    count alone moves, sixteen times (twice what a loop of longer lines needs), is a loop however short."""
    from pipeline.checks.tokens import token_ends

    assert_loop_caught_within("smollm2-cont15-greedy-028", 256)
    head = "The default MPMs:\n\n| OS | Default MPM |\n| --- | --- |\n"
    assert not detect_collapse(head + "".join(f"| Apache {n} | 1.0.0 |\n" for n in range(2, 12))).detected
    verdict = detect_collapse(head + "".join(f"| Apache {n} | 1.0.0 |\n" for n in range(2, 20)))
    assert verdict.detected and verdict.signal == "loop"
    zones = corpus_texts("coherent_numbers9.jsonl.gz")["deb:bind9-doc:reference.html:2#67"]
    assert "- 31.172.IN-ADDR.ARPA" in zones and not detect_collapse(zones, token_ends=token_ends(zones)).detected


def test_a_one_word_code_line_twelve_times_is_a_loop():
    """SmolLM2 writing "#!/usr/bin/ruby" line after line in a code block (the sixteenth batch, missed when judged
    blind): a code line needed two words, so that closing braces and a few "end"s in a row stay code. A one-word line
    with a letter in it, twelve times back to back, is a loop; Node's domain docs call `cluster.fork();` twice."""
    assert_loop_caught_within("smollm2-cont16-greedy-048", 128)
    docs = corpus_texts("coherent_debdocs.jsonl.gz")["deb:nodejs-doc:domain.md#1"]
    twice = "  cluster.fork();\n  cluster.fork();\n"
    assert twice in docs and not detect_collapse(docs).detected
    assert not detect_collapse(docs.replace(twice, "  cluster.fork();\n" * 8)).detected
    stuck = docs.replace(twice, "  cluster.fork();\n" * 12)
    verdict = detect_collapse(stuck)
    assert verdict.detected and verdict.signal == "loop" and stuck[verdict.onset:].startswith("cluster.fork();")


def test_code_lines_coming_round_as_a_block_eight_times_are_a_loop():
    """Python's email docs print a message's structure, "message/rfc822" over "text/plain" five times (the reserve
    split): real output repeats a block of lines as it repeats one line, five times at most. A block of two to eight
    lines that names something, eight times back to back, is a loop as one line is."""
    docs = corpus_texts("coherent_pydocs.jsonl.gz")["pydocs:library/email.iterators#0"]
    block = "        message/rfc822\n            text/plain\n"
    assert block * 5 in docs and not detect_collapse(docs).detected
    stuck = docs.replace(block * 5, block * 8)
    verdict = detect_collapse(stuck)
    assert verdict.detected and verdict.signal == "loop" and stuck[verdict.onset:].startswith("message/rfc822")
    digits = docs.replace(block * 5, "        0 0\n            1 1\n" * 8)  # digits and no word: a matrix, not a loop
    assert not detect_collapse(digits).detected


def test_a_table_row_of_empty_cells_three_times_the_tables_width_is_a_loop():
    """SmolLM2 filling a PostgreSQL replication table's row with "|  |" hundreds of times (the tenth batch): the
    cells have no letter, so no cycle of words was seen. A row with 24 cells or more, three times as many as the
    widest row before it, is a loop."""
    assert_loop_caught_within("smollm2-cont10-greedy-062", 64)
    table = "| tool | kind | use |\n| --- | --- | --- |\n| rsync | copy | backups |\n"
    assert not detect_collapse(table + "| scp | copy |" + " n/a |" * 4 + "\n").detected  # a row a few cells too wide
    verdict = detect_collapse(table + "| scp | copy |" + "  |" * 30 + "\n")
    assert verdict.detected and verdict.signal == "loop"


def test_a_block_of_two_numbered_items_counting_by_two_is_a_loop():
    """SmolLM2 numbering "**16**", "Clip the pixel with the maximum ...", "**17**", "... minimum ..." to the cap (the
    eleventh batch): the block of four lines came round with its count up by two, which the counting test took for no
    count. Two numbered lines of one form in a block may step by two; the copies count as the items counted. A list
    whose lines count one by one (BIND's reverse zones) still counts by one, and Linux's hwmon pages, chip after chip
    (ZL2004, ZL2005, ZL2006, ZL2008, ...), are text."""
    from pipeline.checks.tokens import token_ends

    assert_loop_caught_within("smollm2-cont11-greedy-042", 160)
    for key in ("deb:linux-doc-6.1:hwmon/zl6100.rst#0", "deb:linux-doc-6.1:hwmon/ina2xx.rst#0"):
        chips = corpus_texts("coherent_debprose.jsonl.gz")[key]
        assert not detect_collapse(chips, token_ends=token_ends(chips)).detected, key
    zones = corpus_texts("coherent_numbers9.jsonl.gz")["deb:bind9-doc:reference.html:2#67"]
    assert not detect_collapse(zones, token_ends=token_ends(zones)).detected
    lead = "The filter has these modes:\n\n"
    modes = "".join(f"**{n}**\n\nClip the pixel with the {'maximum' if n % 2 else 'minimum'} of its neighbours.\n\n"
                    for n in range(1, 7))
    assert not detect_collapse(lead + modes).detected  # six items (three copies of the block), as real lists count
    more = "".join(f"**{n}**\n\nClip the pixel with the {'maximum' if n % 2 else 'minimum'} of its neighbours.\n\n"
                   for n in range(1, 9))
    verdict = detect_collapse(lead + more)  # eight items, as eight counting lines are
    assert verdict.detected and verdict.signal == "loop"


def test_a_code_line_of_one_mark_thirty_two_times_is_a_loop():
    """SmolLM2 writing a comment line of one `#` eighty times in a CGI script's header (the eighteenth batch, missed
    when judged blind): a line without a letter never came into the code-line test, so that nested blocks closing a
    few braces stay code. The same mark thirty-two times back to back is a loop."""
    assert_loop_caught_within("smollm2-cont18-greedy-044", 128)
    lead = "Add this to the top of your CGI script:\n\n```\n#!/usr/bin/env python3\n"
    assert not detect_collapse(lead + "        }\n" * 12 + "```\n").detected  # deep nesting closes a dozen at most
    verdict = detect_collapse(lead + "#\n" * 32 + "```\n")
    assert verdict.detected and verdict.signal == "loop" and verdict.onset == len(lead) + 2
