"""Collapse detection on model-written prose, incremental (fed while tokens stream) or on whole text.

Degenerating MoE output goes through recognisable phases: exact loops, synonym chains
("allocation, deallocation, retention, release, ..."), then word salad ("the the system system").
Each phase has a cheap signal that is O(1) per word; the detector fires on the first one that
crosses its calibrated threshold and reports the onset as a character offset. Thresholds were
calibrated on the calibration split of bench/corpus (real text nobody here wrote: package READMEs,
changelogs, docs, code, tables; see bench/corpus/README.md and bench/collapse.py) and measured once
on its held-out split; never run this on template-rendered blocks.

Real text repeats itself too (changelog boilerplate, a commit message quoted twice, parallel list
items), so a loop needs spans coming round a third time, or one very long verbatim run, or a cycle
of at most three distinct words. Inside fenced code blocks only loops are judged, with higher bars:
code repeats by design, and its token soup is not word salad.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .text import CLAUSE_PUNCTUATION, CLOSERS, ends_clause, is_list_number

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s")  # what ends a word: the same whitespace as _WORD's \S
_CHAIN_ITEM = re.compile(r"^[a-z][a-z'’-]*$")  # lowercase words: synonyms, not tickers or numbers
_PUNCTUATION = re.compile(r"[^\w\s'’]")  # anything but letters, digits and apostrophes
_LOWER_RUN = re.compile(r"[a-z]+")
_TABLE_RULE = re.compile(r"^[+=|][-=+:|]{2,}$")  # "+-----+", "|---|:--:|", "====="
TABLE_CELL_WORDS = 12  # more words than this without a "|" and the "row" is prose (or salad) again
LABEL_WORDS = 8  # a heading or list item this short names what follows: a label
_DIGITS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_PERIODIC = re.compile(r"(.{2,30}?)\1{3,}")  # the same stretch four times back to back
_IDENT_MARK = re.compile(r"[_/=()<>|{}]")  # snake_case, paths, calls, <placeholders>, {A|B} types
_OPTION = re.compile(r"\[?--?[^\W\d_]")  # a command-line option: "--init", "[-N"
_STRIP = str.maketrans("", "", "\"'“”‘’()[]*_`")
_CLAUSE_END_CHARS = frozenset(CLAUSE_PUNCTUATION + CLOSERS)  # a clause end's last character is one of these


@dataclass(frozen=True)
class Thresholds:
    ngram: int = 4  # n of the repeated n-grams
    window: int = 40  # words in the sliding window
    repeat_share: float = 0.75  # share of the window's n-grams seen earlier in the text
    repeat_streak: int = 20  # consecutive words whose n-gram was seen before: a loop, not a refrain
    third_share: float = 0.5  # ... of which this share already seen twice before (a span's third time round)
    streak_tokens: int = 64  # a streak of 8+ words this many tokens long counts as long enough (dates and
    streak_min_words: int = 8  # versions cost many tokens a word: "2022-09-04 12:22:11.133: 2022-09-04 ...")
    long_streak: int = 80  # consecutive repeated words that make a loop even if each span only came twice
    verbatim_copies: int = 4  # the same words this many times back to back, every word as it came a period before ...
    verbatim_tokens: int = 32  # ... over this many tokens: a loop however its words look (real text repeats a
    # line thrice at most: "PR target/96914 (ARM)," three times in a GCC changelog, a sponsor's block in a README)
    tandem_words: int = 16  # a passage this many words long, at once written again word for word: a loop (0: off)
    counting_copies: int = 8  # lines come round this many times with only a number stepped up by one (0: off; real text
    # counts six times at most: R's index rows `lang1` to `lang6` over one description)
    table_row_copies: int = 4  # the same table row this many times back to back (real tables repeat one 3 times at most)
    wide_row_cells: int = 24  # a row with this many cells, three times the table's widest row before it: cells that loop
    table_block_copies: int = 3  # the same 2 or 3 table rows this many times back to back ("| gpg |", "| gpgv |", ...)
    empty_fences: int = 8  # this many code fences in a row with nothing between them: empty blocks opened and closed
    code_block_copies: int = 4  # the same fenced block this many times back to back (0: off; a page shows one twice at most)
    code_line_copies: int = 8  # the same code line of 2+ words (or 2 to 8 lines, some words among them) this many
    # times back to back (real code and its output repeat one 5 times at most: "Running worker" printed by five threads;
    # Python's email docs print "message/rfc822", "text/plain" five times)
    code_mark_copies: int = 32  # ... of one mark without a letter ("#" line after line; nested blocks close a few "}")
    code_word_copies: int = 12  # ... a line of one word with a letter ("#!/usr/bin/ruby"; nested blocks close a few "end"s)
    period_share: float = 0.8  # a loop's last period is mostly repeated words; a reference page's boilerplate
    # sentence, third time round, sits between new ones ("Return an iterator for the month *month* ...")
    short_cycle_words: int = 8  # consecutive third-time n-grams over at most 3 distinct words: "- Server - Server ..."
    repeat_lookback: int = 600  # words: how far back an n-gram counts as "seen earlier"
    min_unique_ratio: float = 0.3  # distinct words / words, over the window's alphabetic words
    adjacent_repeats: int = 3  # "the the", "of of" in one window
    soup_window: int = 16  # words of token soup: almost no function words, no punctuation, no line breaks
    soup_max_stopwords: float = 0.1
    fragment_window: int = 8  # words; invented words split into many tokens each ...
    fragment_tokens_per_word: float = 2.8  # ... English runs ~1.3 tokens a word (needs token counts)
    glued_token_chars: int = 24  # one "word" this long that compresses well is a loop inside a token
    chain_items: int = 10  # consecutive short lowercase comma-separated items
    chain_item_words: int = 2  # words per chain item, at most
    chain_item_letters: float = 5.0  # letters a chain's words average, at least ...
    chain_item_tokens: float = 3.0  # ... and tokens its items (with their commas) average, at most
    run_on_words: int = 110  # words with no sentence end and no line break
    unpunctuated_words: int = 30  # words with no punctuation at all (no comma, dash, bracket, quote) ...
    fluent_stopwords: float = 0.3  # ... unless this share of them are function words: a long sentence, if it ends as
    fluent_run_on_words: int = 46  # one (with a period, a comma or code) before this many
    min_words: int = 24  # evidence needed before anything fires
    surprisal_tokens: int = 16  # tokens in the model-surprisal window (while streaming from a backend that reports it)
    surprisal_nats: float = 7.4  # mean nats a token over that window: improbable to the model that wrote it
    read_tokens: int = 32  # `pipeline check` reading a file with the embedded model: a window this long ...
    read_nats: float = 8.0  # ... averaging this many nats a token is salad (text people wrote stayed under it)
    locate_lookback: int = 256  # tokens before the text signals' onset where a salad's start is looked for
    locate_nats: float = 7.0  # mean nats a token from the located start to where the detector fired ...
    locate_gap_nats: float = 2.5  # ... and this much above the text before it


@dataclass
class Verdict:
    detected: bool = False
    onset: int | None = None  # character offset where the collapse starts
    signal: str | None = None  # which signal fired: loop, synonym_chain, word_salad, run_on
    words_seen: int = 0
    fired_at: int | None = None  # character offset where the detector had enough evidence
    signals: dict = field(default_factory=dict)  # the values at the moment it fired (or at the end)

    def as_dict(self) -> dict:
        return asdict(self)


_FUNCTION_WORDS = (  # one string of words reads better than 70 quoted ones
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that "
    "these those i we you he she they my our your his her their me us them not no so than then there here what "
    "which who how when where why can will would should could do does did have has had"
)
_OTHER_FUNCTION_WORDS = (  # the commonest short words of the languages most written in Latin script
    "der die das den dem des und ist nicht ein eine einen zu mit von im auf sich es sie er wir ich auch oder wird "
    "de le la les un une des du et est que qui dans pour pas sur au ce il elle nous vous ou par "
    "el los las del y en una por con para se lo su al como más "
    "o os as do da dos das em um uma não com ao "
    "di che per gli della non è si "
    "het een van op te dat zijn niet voor wordt met naar ook kan "
    "og och er det en at til på som med av för ikke inte "
    "w z na się nie jest że "
    "dan yang ke dari untuk dengan ini itu pada tidak akan atau "
    "ve bir bu ile için olarak "
    "și în cu pe nu sau"
)
OTHER_FUNCTION_WORDS = frozenset(_OTHER_FUNCTION_WORDS.split()) - frozenset(_FUNCTION_WORDS.split())
STOPWORDS = frozenset(_FUNCTION_WORDS.split()) | OTHER_FUNCTION_WORDS  # token soup has none of any language's
# Words that hold a long English sentence together besides the function words above (not soup evidence:
# salad has its share of them); with those, they tell a long sentence from a fluent ramble.
_GLUE_WORDS = ("into onto about over under after before between through during while since until upon via "
               "may might must shall such all any each every some both either neither also only just very more most "
               "because although though whether even nor")
SENTENCE_GLUE = STOPWORDS | frozenset(_GLUE_WORDS.split())
FOREIGN_SHARE = 0.05  # of a text's words in another language: English's function words and token costs don't apply
ENGLISH = "en"


def is_english(language: str) -> bool:
    """A language code ("en", "en-GB", "de", "pt-BR") that names English."""
    return re.split(r"[-_]", language)[0].lower() == ENGLISH


class _Word:
    """One word as the sliding windows count it. A plain class with a positional __init__: one is made per
    word, and a dataclass called with ten keyword arguments cost several times as much."""

    __slots__ = ("norm", "alpha", "ident", "repeated", "again", "adjacent", "stop", "boundary", "comma", "code")

    def __init__(self, raw: str, norm: str, bare: str, seen: int, boundary: bool, code: bool, raw_prev: str) -> None:
        self.norm = norm  # lowercased, quotes and brackets stripped
        self.alpha = _LETTER.search(norm) is not None  # has a letter: only such words count for variety, function words
        # snake_case, a path, a call, an acronym or a version ("UTF-8", "ISO9660"): token soup is not made of these
        self.ident = (_IDENT_MARK.search(raw) is not None or (len(bare) > 1 and bare.isupper())
                      or (raw[0] in "-[" and _OPTION.match(raw) is not None))
        self.repeated = seen >= 1  # its n-gram was seen earlier
        self.again = seen >= 2  # ... at least twice earlier: the span's third time round
        self.adjacent = (len(bare) > 1 and bare.isalpha() and bare.islower() and raw == raw_prev  # "the the", not
                         and not raw.endswith(","))  # "modifier, modifier, ..."
        self.stop = bare.lower() in STOPWORDS
        self.boundary = boundary  # ends a sentence or a line
        self.comma = raw.endswith((",", ";"))  # lists are punctuated, token soup is not
        self.code = code  # inside a fenced code block (or a table): only loops are judged there


class _Rounds:
    """Per period of 1 to `most` lines: how many lines in a row matched the line a period back, and where the
    block's second copy began (a word index)."""

    def __init__(self, most: int) -> None:
        self.runs = [0] * (most + 1)
        self.second = [0] * (most + 1)

    def count(self, period: int, matched: bool, first: int) -> int:
        """The copies of the last `period` lines back to back, this line (starting at word `first`) counted: 0 if it
        did not match."""
        if not matched:
            self.runs[period] = 0
            return 0
        if self.runs[period] == 0:
            self.second[period] = first
        self.runs[period] += 1
        return self.runs[period] // period + 1


class _CountingLines:
    """Lines (prose or table rows, not code) that come round with only a number stepped up by one ("## Filtro no
    Apache 2.1", "Este documento descreve ... 2.1.", then 2.2, 2.3, ...): a loop that counts, in blocks of up to
    MAX_PERIOD lines. Real text counts too (versions, addresses, "- 3.8", "- 3.9"), but in lines of one word, or a
    few times over: each block must hold COUNTED_WORDS words with letters (a table row one, from twice `copies` on:
    "| Apache 22 | 1.0.0 |"; BIND's reverse zones list "- 16.172.IN-ADDR.ARPA" to 31), and at least every second copy
    step up."""

    MAX_PERIOD = 5
    COUNTED_WORDS = 2

    def __init__(self, copies: int) -> None:
        self.copies = copies
        # per line: its text with numbers blanked, its numbers, its words, where it began (a word index)
        self.lines: deque[tuple[str, tuple[int, ...], Sequence[str], int]] = deque(maxlen=self.MAX_PERIOD + 1)
        self.rounds = _Rounds(self.MAX_PERIOD)
        self.steps = [0] * (self.MAX_PERIOD + 1)  # per period: how many of the matching lines stepped a number up
        self.stride = [1] * (self.MAX_PERIOD + 1)  # ... and by how much at most

    def add(self, words: Sequence[str], first: int, row: bool) -> int | None:
        """One more line (a table row: `row`); the word where the loop's second copy began, once it has come round
        `copies` times. In a table only a number that moves alone counts: a real table's index moves with the
        cells that name it ("| `WIN1252` | *WIN1252*, `UTF8` |", "| Channel *1* | DMA1 channel 1 | *0x01* |")."""
        line = " ".join(words)  # one regex pass a line, not a word: this runs at every line end
        numbers = tuple(map(int, _DIGITS.findall(line)))
        lines = self.lines
        lines.append((_DIGITS.sub("0", line) if numbers else line, numbers, words, first))
        for period in range(1, min(self.MAX_PERIOD, len(lines) - 1) + 1):
            before = lines[-1 - period]
            step = self._step(period, before[1], numbers, row) if lines[-1][0] == before[0] else 0
            copies = self.rounds.count(period, lines[-1][0] == before[0] and (step > 0 or numbers == before[1]), first)
            self.steps[period] = self.steps[period] + (step > 0) if copies else 0
            self.stride[period] = max(self.stride[period], step) if copies else 1
            counted = copies * self.stride[period]  # the items counted: copies of a block of two numbered items count twice
            if counted >= self.copies and 2 * self.steps[period] >= copies - 1 and self._lettered(period) >= (
                    1 if row and counted >= 2 * self.copies else self.COUNTED_WORDS):
                return self.rounds.second[period]
        return None

    def _step(self, period: int, before: tuple[int, ...], numbers: tuple[int, ...], row: bool) -> int:
        """How far this line's count went up from the line a period back: a block of two items of one form ("**16**",
        "**17**") counts by two, unless its lines count one by one (a shorter period matched them all)."""
        lines = self.lines
        most = 1 if any(self.rounds.runs[d] >= period for d in range(1, period) if period % d == 0) else sum(
            1 for back in range(1, period + 1) if lines[-back][0] == lines[-1][0])
        return _step_up(before, numbers, alone=row, most=most)

    def _lettered(self, period: int) -> int:
        """Words with letters in the last `period` lines (list numbers such as "#." are no words)."""
        return sum(1 for back in range(1, period + 1) for word in self.lines[-back][2]
                   if word != "#." and _LETTER.search(word))


class _RepeatedRows:
    """The last few table rows (or code lines), and per period how many rows in a row matched the row a period back."""

    MAX_PERIOD = 8

    def __init__(self) -> None:
        self.rows: deque[tuple[str, ...]] = deque(maxlen=self.MAX_PERIOD + 1)
        self.rounds = _Rounds(self.MAX_PERIOD)

    def clear(self) -> None:
        if self.rows:
            self.rows.clear()
            self.rounds = _Rounds(self.MAX_PERIOD)

    def add(self, row: tuple[str, ...], first: int, needed: dict[int, int]) -> int | None:
        """One more row; where the second copy began once a block of `period` rows has come round `needed[period]`
        times back to back."""
        self.rows.append(row)
        for period, copies in needed.items():
            matched = len(self.rows) > period and self.rows[-1 - period] == row
            if self.rounds.count(period, matched, first) >= copies and (period == 1 or self._lettered(period)):
                return self.rounds.second[period]
        return None

    def _lettered(self, period: int) -> bool:
        """The last `period` rows name something: a block of digits and rules ("0 0 0", "+---+") may repeat."""
        return _LETTER.search(" ".join(word for row in itertools.islice(reversed(self.rows), period) for word in row)) is not None


class _RepeatedBlocks:
    """Fenced code blocks, whole (fences and language too), and how many times the last came round back to back: a model
    stuck on one example writes it again and again (```c / #define VARHDRSZ 40 / ```, the twelfth batch)."""

    def __init__(self, copies: int) -> None:
        self.needed = copies
        self.opened = -1  # the word index of the open block's fence
        self.closed = -1  # ... and of the last block's closing fence
        self.last: Sequence[str] = ()
        self.back_to_back = False  # the open block began right after the last one closed
        self.copies = 0
        self.second = 0  # where the second copy began

    def add(self, words: Sequence[str], index: int, opening: bool) -> int | None:
        """A fence at word `index` (`opening` a block, else closing one); where the run's second copy began, once the
        same block has closed `copies` times back to back."""
        if opening:
            self.back_to_back = self.opened >= 0 and self.closed == index - 1
            self.opened = index
            return None
        block = words[self.opened: index + 1]
        if self.back_to_back and block == self.last:
            self.copies += 1
            if self.copies == 2:
                self.second = self.opened
        else:
            self.copies = 1
        self.last, self.closed = block, index
        return self.second if self.copies >= self.needed else None


def _step_up(before: tuple[int, ...], after: tuple[int, ...], alone: bool, most: int = 1) -> int:
    """How far the first number that differs went up, if by one to `most`: "1.2.9" to "1.3.0", "10-1" to "10-2"
    (`alone`: and no other number changed); else 0."""
    if len(before) != len(after):
        return 0
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    if not changed or (alone and len(changed) > 1):
        return 0
    step = changed[0][1] - changed[0][0]
    return step if 0 < step <= most else 0


class CollapseDetector:
    """Feed text as it streams; `verdict.detected` turns true at the first confident signal."""

    def __init__(self, thresholds: Thresholds = Thresholds(), language: str = ENGLISH):
        """`language`: what the text is written in. English's signals (token soup, token cost, an unpunctuated
        sentence judged by English's glue words) are built on English and judge only English text."""
        self.t = thresholds
        self._english = is_english(language)
        self.verdict = Verdict()
        self._tail = ""  # text not yet split into complete words (kept short: feeding stays O(1))
        self._tokens_seen = 0
        self._held_tokens: int | None = None  # tokens seen when a word ended in spaces that may still end its line
        self._lettered = self._foreign = 0  # words with letters; of them, words of another language (_is_foreign_word)
        self._plain_run = 0  # consecutive plain words up to the last one (the token-cost signal judges only those)
        self._offset = 0  # character offset of _tail in the whole text
        self._words: list[str] = []
        self._raw_prev = ""
        self._starts: list[int] = []
        self._window: deque[_Word] = deque()
        self._alpha_counts: dict[str, int] = {}  # the window's words that have a letter, with their counts
        # Running totals over the window and the soup window (plain dicts: a Counter's missing key costs a call)
        self._sums = dict.fromkeys(("repeated", "again", "adjacent", "alpha", "boundary"), 0)
        self._soup: deque[_Word] = deque()
        self._soup_sums = dict.fromkeys(("stop", "boundary", "alpha", "comma"), 0)
        self._ngram_last: dict[tuple, tuple[int, int]] = {}  # n-gram -> (last index, times seen in a row of lookbacks)
        # For the period test, n-grams with their digits blanked: a loop that counts ("Issue #2", "#3") still repeats
        self._loose_last: dict[tuple, int] = {}  # n-grams with digits only (the others are their own loose form)
        self._last_digit_word = -1  # index of the last word with a digit in it
        self._tokens_at: list[int] = []  # tokens seen when each word was added
        self._code_in_window = 0
        self._seen_at: list[int] = []  # per word: where its loose n-gram came last before (-1: never)
        self._repeated_before: list[int] = [0]  # prefix sums of words whose loose n-gram came before
        self._table_line = False  # this line is a table row or rule: judged like code
        self._simple_table = False  # in a reST simple table (rules of "=" columns, rows without "|")
        self._since_pipe = 0  # words since the last "|"
        self._row_cells = self._table_cells = 0  # "|" in this row; the most in a row of this table so far
        self._period = self._period_run = 0  # where this word's n-gram came last; words in a row it came that far back
        self._rows = _RepeatedRows()  # the last table rows (or code lines) and how they came round, and the copies
        # that make a loop of a block of 1 to 6 rows (of 1 to 8 code lines; of a one-word line)
        self._row_copies = {1: self.t.table_row_copies, **dict.fromkeys(range(2, 7), self.t.table_block_copies)}
        self._code_copies = dict.fromkeys(range(1, 9), self.t.code_line_copies)
        self._code_word_copies = {**self._code_copies, 1: self.t.code_word_copies}
        self._marks = 0  # the same one-mark code line, this many times back to back
        self._fences = 0  # code fences in a row with no other word between them
        self._blocks = _RepeatedBlocks(self.t.code_block_copies)  # fenced code blocks, and the last one's copies in a row
        self._counting = _CountingLines(self.t.counting_copies)
        self._streak = 0
        self._streak_again = 0  # words of the current streak whose n-gram came a third time
        self._run_again = 0  # consecutive such words
        self._in_code = False
        self._math_depth = 0  # open LaTeX display math ("\\[", "\\begin{bmatrix}", "$$"): its rows are judged like code
        self._line_start = True  # the next word starts a line
        # Reference pages and changelogs repeat boilerplate under a new name ("#### parser.parseFlags(...)", "* Object.freeze",
        # "`LifoQueue(maxsize=0)`", a commit's subject line); a loop repeats its labels too. Where the last new one began:
        self._line_first = 0  # index of this line's first word
        self._line_label = False  # a heading, list item, paragraph's first line or code-span term (a label if short)
        self._labels: set[tuple[str, ...]] = set()  # labels seen, numbers blanked
        self._new_label: tuple[str, ...] = ()
        self._new_label_at = -1
        self._chain_len = 0
        self._chain_start = 0
        self._item_words = 0
        self._item_start = 0
        self._run_on_start = 0
        self._unpunctuated_start = 0
        self._nats: deque[tuple[int, float, int]] = deque()  # (tokens, nats, char offset) per streamed piece
        self._nats_sum = [0, 0.0]  # tokens and nats over that window

    # -- feeding -----------------------------------------------------------------------------
    def feed(self, delta: str, tokens: int = 0, surprisal: float | None = None) -> Verdict:
        """Add streamed text (and how many tokens it was, when known, and how improbable those tokens
        were to the model: their summed -log p in nats, when the backend reports it); only complete
        words (followed by whitespace) are judged by the text signals."""
        if self.verdict.detected:
            return self.verdict  # the first onset is the one that counts
        self._tokens_seen += tokens
        piece_start = self._offset + len(self._tail)
        self._tail += delta
        if _SPACE.search(delta):
            self._add_complete_words()
        elif len(self._tail) >= self.t.glued_token_chars:  # no word ended (most pieces): only a long one needs a look
            self._judge_unfinished_word()
        if surprisal is not None and tokens and delta.strip() and not self.verdict.detected and not (
                self._in_code or self._math_depth):
            self._judge_surprisal(tokens, surprisal, piece_start)
        return self.verdict

    def _add_complete_words(self) -> None:
        """Judge each word of the tail that whitespace has ended; keep the unfinished one."""
        tail, consumed = self._tail, 0
        for match in _WORD.finditer(tail):
            start, end = match.span()
            if end == len(tail):
                if end - start >= self.t.glued_token_chars:  # the word may continue, but a glued loop can't wait
                    self._judge_partial(match, self._blank_between(tail, consumed, start))
                break
            next_char = tail[end]
            if next_char != "\n" and (end + 1 == len(tail) or tail[end + 1].isspace()):  # "FLOAT \n": spaces, then?
                gap = len(tail) - len(tail[end:].lstrip())  # where the spaces after the word end
                if gap == len(tail):  # only spaces so far: a line end may still come, and the line ends here then
                    self._held_tokens = self._tokens_seen if self._held_tokens is None else self._held_tokens
                    break
                next_char = "\n" if "\n" in tail[end:gap] else next_char
            blank = tail.count("\n", consumed, start) > 1 and self._blank_between(tail, consumed, start)
            self._add_word(match.group(), self._offset + start, next_char, blank)
            consumed = end
            if self.verdict.detected:
                break
        self._tail, self._offset = tail[consumed:], self._offset + consumed

    def _blank_between(self, tail: str, start: int, end: int) -> bool:
        """A blank line before this word (callers that judge every word count its newlines first: cheaper)."""
        return bool(self._words) and _BLANK_LINE.search(tail, start, end) is not None

    def _judge_unfinished_word(self) -> None:
        """The tail holds at most one word, unfinished (complete ones were judged when whitespace ended them)."""
        match = _WORD.search(self._tail)
        if match and match.end() - match.start() >= self.t.glued_token_chars:
            self._judge_partial(match, self._blank_between(self._tail, 0, match.start()))

    def _judge_surprisal(self, tokens: int, nats: float, start: int) -> None:
        """Salad is improbable to the model that wrote it (SmolLM2's coherent output averages ~2.6 nats a
        token and its 16-token windows stay under ~6.4; its calibration salads average ~7.1): fire when the last
        window's mean crosses the bar, with the onset at the window's first piece."""
        self._nats.append((tokens, nats, start))
        self._nats_sum[0] += tokens
        self._nats_sum[1] += nats
        while self._nats_sum[0] - self._nats[0][0] >= self.t.surprisal_tokens:
            old_tokens, old_nats, _ = self._nats.popleft()
            self._nats_sum[0] -= old_tokens
            self._nats_sum[1] -= old_nats
        window_tokens, window_nats = self._nats_sum
        if window_tokens >= self.t.surprisal_tokens and window_nats / window_tokens >= self.t.surprisal_nats:
            last = self._starts[-1] + len(self._words[-1]) if self._words else start
            self.verdict = Verdict(True, self._nats[0][2], "word_salad", len(self._words), max(last, start),
                                   self._signal_values())

    def _judge_partial(self, match: re.Match, blank: bool) -> None:
        token = match.group()
        if self._in_code_when_complete(token, blank):
            return  # code and table cells are judged for loops of words only, as _add_word does
        signal = "loop" if self._is_glued_loop(token) else "word_salad" if self._is_glued_salad(token) else None
        if signal:
            self._words.append(token.lower())
            self._starts.append(self._offset + match.start())
            self._fire(signal, len(self._words) - 1)

    def _in_code_when_complete(self, token: str, blank: bool) -> bool:
        """Whether _add_word will treat this unfinished word as code: in a fence, opening one, or a table cell."""
        if self._in_code or self._math_depth:
            return True
        if self._line_start:
            return token.startswith(("```", "~~~")) or _starts_table_row(token) or (self._simple_table and not blank)
        return self._table_line and (self._simple_table or "|" in token or self._since_pipe < TABLE_CELL_WORDS)

    def finish(self) -> Verdict:
        """Judge the last word too, and record the final signal values."""
        tail = _WORD.search(self._tail)
        if tail and not self.verdict.detected:
            self._add_word(tail.group(), self._offset + tail.start(), "")
            self._tail, self._offset = "", self._offset + len(self._tail)
        if not self.verdict.detected:
            self.verdict.signals = self._signal_values()
        return self.verdict

    # -- per-word updates, O(1) each -------------------------------------------------------------
    def _add_word(self, raw: str, start: int, next_char: str, blank: bool = False) -> None:
        index = len(self._words)
        list_number = raw.endswith((".", ")")) and is_list_number(raw)  # most words end otherwise: no regex for them
        norm = "#." if list_number else raw.lower().translate(_STRIP)  # "11." loops like "12."
        self._words.append(norm)
        if not norm.isalpha() and _DIGITS.search(norm) is not None:
            self._last_digit_word = index
        self._tokens_at.append(self._tokens_seen if self._held_tokens is None else self._held_tokens)
        self._held_tokens = None
        self._starts.append(start)
        self.verdict.words_seen = index + 1
        bare = raw.strip(".,;:!?\"'“”‘’()[]*_")
        under_text = index > 0 and not blank
        fence = self._line_start and raw.startswith(("```", "~~~")) and not (under_text and raw.strip("~") == "")
        # a line of tildes right under a line of text underlines it as a heading (reStructuredText)
        if fence:
            self._in_code = not self._in_code
        math = self._in_math(raw, blank)
        if self._line_start:
            self._table_cells = max(self._table_cells, self._row_cells) if self._table_line else 0
            self._row_cells = 0
            self._line_first = index
            self._line_label = (raw[:1] == "#" or raw in ("*", "-", "+") or list_number
                                or blank or (raw[:1] == "`" and not fence))  # a paragraph's first line; a term
            self._simple_table = self._simple_table and not blank  # a reST simple table ends at a blank line
            self._table_line = _starts_table_row(raw) or self._simple_table
            self._since_pipe = 0
        if self._table_line:
            self._since_pipe = 0 if "|" in raw else self._since_pipe + 1
            self._row_cells += raw.count("|")
            if self._table_cells >= 2 and self._row_cells >= max(self.t.wide_row_cells, 3 * self._table_cells):
                return self._fire("loop", self._line_first)  # "| Comm.|  |  |  | ...": empty cells past the table's width
            if "|" in raw and 2 <= self._row_cells <= 3:
                self._note_label(index)  # a row's first cell or two name it, as a heading does: "| DELETE | UPDATE |"
            if raw[:1] == "=" and index > self._line_first and _TABLE_RULE.match(raw):
                self._simple_table = True  # "=====  =====": a reST simple table's rule; its rows have no "|"
            # a salad after a pipe table's last "|" is no cell
            self._table_line = self._simple_table or self._since_pipe <= TABLE_CELL_WORDS
        seen = self._ngram_seen(index)
        ends = raw[-1] in _CLAUSE_END_CHARS and ends_clause(raw)  # the regex only for words that may end a clause
        word = _Word(raw, norm, bare, seen, ends or next_char == "\n", self._in_code or fence or self._table_line
                     or math, self._raw_prev)
        self._repeated_before.append(self._repeated_before[-1] + (self._seen_at[index] >= 0))
        self._line_start = next_char == "\n"
        if self._line_start and self._line_label and index - self._line_first < LABEL_WORDS:
            self._note_label(index)
        elif index == self._line_first and raw[:1] == "`" and len(raw) > 2 and raw.rstrip(".,;:").endswith("`") and not fence:
            self._note_label(index)  # a code span that opens a line names it, however long the line: "`NV12_4L4` stores ..."
        self._raw_prev = "" if word.boundary or word.code else raw  # "v\nv" in a diagram is not "the the"
        self._streak = self._streak + 1 if word.repeated else 0
        self._streak_again = self._streak_again + word.again if word.repeated else 0
        self._run_again = self._run_again + 1 if word.again else 0
        self._slide(word)
        if word.alpha:
            self._lettered += 1
            self._foreign += not bare.isascii() and _is_foreign_word(bare)
        plain = (bare.isascii() and bare.isalpha() and not bare.isupper() and not word.boundary and not word.comma
                 and bare not in OTHER_FUNCTION_WORDS)  # "Straße", "met", "dan": costly to the tokenizer, not invented
        self._plain_run = self._plain_run + 1 if plain else 0  # "Karl Cronburg, Krzesimir Nowak, ...": names, not soup
        if not word.code and self._is_verbatim_loop(index):
            return self._fire("loop", index - self._streak - self.t.ngram + 2)
        if self._line_start and (second := self._repeated_rows(index, word.code and not math, math)) is not None:
            return self._fire("loop", second)
        self._fences = self._fences + 1 if fence else 0
        if self._fences >= self.t.empty_fences:
            return self._fire("loop", index - self._fences + 1)
        if fence and self.t.code_block_copies and (second := self._blocks.add(self._words, index, self._in_code)) is not None:
            return self._fire("loop", second)
        if self._line_start and (self._table_line or not word.code) and self.t.counting_copies:
            second = self._counting.add(self._words[self._line_first: index + 1], self._line_first, self._table_line)
            if second is not None:
                return self._fire("loop", second)
        if word.code:
            self._chain_len = self._item_words = 0
            self._run_on_start = self._unpunctuated_start = index + 1
            if index + 1 >= self.t.min_words:
                self._judge_loop(index, code=True, math=math)
            return
        self._track_chain(raw, index)
        if word.boundary or raw.startswith(("#", "|", "-", "*", "`")):
            self._run_on_start = index + 1
        if word.boundary or _PUNCTUATION.search(raw) or "_" in raw:  # snake_case breaks a run as punctuation does
            if self._english and index - self._unpunctuated_start >= self.t.unpunctuated_words and not _ends_as_prose(raw):
                return self._fire("run_on", self._unpunctuated_start)  # a long fluent run broken off, not finished
            self._unpunctuated_start = index + 1
        if len(raw) >= self.t.glued_token_chars:  # checked here: most words are short, and calls cost
            if self._is_glued_loop(raw):
                return self._fire("loop", index)
            if self._is_glued_salad(raw):
                return self._fire("word_salad", index)
        if self._chain_len >= self.t.chain_items and self._chain_of_words(index):  # evidence on its own, however early
            return self._fire("synonym_chain", self._chain_start)
        if self._sums["adjacent"] >= self.t.adjacent_repeats:  # so is stuttering: "the the ... of of"
            return self._fire("word_salad", self._first_adjacent(index))
        if index + 1 >= self.t.min_words:
            self._judge(index)

    def _in_math(self, raw: str, blank: bool) -> bool:
        """Whether this word is in LaTeX display math ("\\[", "\\begin{bmatrix}", "$$" to their ends): a sparse
        matrix's rows ("0 & 0 & 0 \\\\") repeat as a table's cells do. Display math holds no blank line: one ends
        it, however it was opened (a stray "\\[" can't silence the detector for long)."""
        depth = 0 if blank else self._math_depth
        if "\\" in raw or raw[:2] == "$$":  # most words hold neither: no counting for them
            opened = raw.count("\\begin{") + raw.count("\\[") - raw.count("\\end{") - raw.count("\\]")
            if raw.count("$$") % 2:
                opened += -1 if depth else 1  # "$$" closes the open block, else opens one
            self._math_depth = max(depth + opened, 0)
            return depth > 0 or self._math_depth > 0  # the words that open and close a block are in it
        self._math_depth = depth
        return depth > 0

    def _is_verbatim_loop(self, index: int) -> bool:
        """The last words are the same few words back to back verbatim_copies times: a loop, even of
        timestamps or version strings that no other loop test counts as words ("2014-01-01: 2014-01-01: ...")."""
        period, copies = self._period, self.t.verbatim_copies
        if not period or self._period_run + self.t.ngram - 1 < (copies - 1) * period:
            return False
        first = index - self._period_run - self.t.ngram + 1 - period  # where the first copy began
        return first >= 0 and self._tokens_at[index] - self._tokens_at[first] >= self.t.verbatim_tokens

    def _repeated_rows(self, index: int, code: bool, math: bool = False) -> int | None:
        """Where the loop's second copy began, if this line ends the same table rows (code lines) coming round back to
        back: one row table_row_copies times, a block of 2 to 6 rows table_block_copies times; a code line of 2+ words,
        a block of 2 to 8 code lines with a word among them, or a line of display math with a letter, code_line_copies
        times; a one-word code line code_word_copies times, one mark without a letter code_mark_copies times (a
        benchmark table repeats its cells, not whole rows, since each row names what it measures; code closes nested
        blocks with a few braces or "end"s; in math only a line that names something counts: a zero matrix's rows
        "0 & 0 \\\\" repeat)."""
        if math and not self._table_line:
            row = tuple(self._words[self._line_first: index + 1])
            if _LETTER.search(" ".join(row)):
                return self._rows.add(row, self._line_first, self._code_copies)
        one_word = index == self._line_first
        mark = code and one_word and _LETTER.search(self._words[index]) is None  # "}", "#", "---": no word
        self._marks = self._marks + 1 if mark and self._marks and self._words[index] == self._words[index - 1] else int(mark)
        if self._marks >= self.t.code_mark_copies:
            return index - self._marks + 2  # the second copy
        if not (self._table_line or (code and not mark)):
            self._rows.clear()  # most lines: no tuple to build; a closing brace ends a run of code lines
            return None
        row = tuple(self._words[self._line_first: index + 1])
        if self._table_line and all(_TABLE_RULE.match(word) for word in row):
            return None  # a grid table's rule between rows: the rows around it are still back to back
        needed = self._row_copies if self._table_line else self._code_word_copies if one_word else self._code_copies
        return self._rows.add(row, self._line_first, needed)

    def _is_glued_salad(self, raw: str) -> bool:
        """'TheColorOfArubaBakeryDhleYoho...': many words run together in one token, as no text does
        (identifiers are shorter; URLs and paths have separators)."""
        if len(raw) < 2 * self.t.glued_token_chars or any(c in raw for c in "/:.=@\\`#|{}<>"):  # "`x`](#x)": markup
            return False
        humps = sum(1 for a, b in itertools.pairwise(raw) if a.islower() and b.isupper())
        runs = _LOWER_RUN.findall(raw)  # words glued together have lowercase runs; base64 has short ones
        return humps >= 6 and sum(map(len, runs)) / len(runs) >= 2.8

    def _is_glued_loop(self, raw: str) -> bool:
        """'zymezymezyme...': a loop inside one whitespace-free token (rules like '|-----|' are not)."""
        if len(raw) < self.t.glued_token_chars or "/" in raw or sum(map(str.isalpha, raw)) < 0.8 * len(raw):
            return False  # a link repeats its host and path ("commons-cli/commons-cli/badge.svg")
        if not raw.isascii():  # Japanese and Chinese run whole sentences together: only a repeat is a loop there
            return _PERIODIC.search(raw) is not None
        return _compression(raw.encode()) < 0.5

    def _ngram_seen(self, index: int) -> int:
        """How many times this word's n-gram came before, each time within the lookback of the next."""
        n = self.t.ngram
        if index + 1 < n:
            self._seen_at.append(-1)
            return 0
        gram = tuple(self._words[index - n + 1: index + 1])
        last, times = self._ngram_last.get(gram, (None, 0))
        recent = last is not None and index - last <= self.t.repeat_lookback
        seen = times if recent else 0
        self._ngram_last[gram] = (index, seen + 1)
        period = index - last if recent and last is not None else 0
        self._period_run = self._period_run + 1 if period and period == self._period else int(period > 0)
        self._period = period
        if self._last_digit_word > index - n:  # the period test's n-gram: digits blanked
            loose = _digits_blanked(gram)
            prior = self._loose_last.get(loose, -1)
            self._loose_last[loose] = index
            self._seen_at.append(prior if prior >= 0 and index - prior <= self.t.repeat_lookback else -1)
        else:
            self._seen_at.append(last if recent and last is not None else -1)
        return seen

    def _slide(self, word: _Word) -> None:
        self._window.append(word)
        self._add_counts(word, +1)
        if len(self._window) > self.t.window:
            self._add_counts(self._window.popleft(), -1)
        self._soup.append(word)
        self._add_soup_counts(word, +1)
        if len(self._soup) > self.t.soup_window:
            self._add_soup_counts(self._soup.popleft(), -1)

    # Only the flags a word has change a total, and most words have few: testing is cheaper than adding 0.
    def _add_soup_counts(self, word: _Word, sign: int) -> None:
        sums = self._soup_sums
        if word.stop:
            sums["stop"] += sign
        if word.boundary:
            sums["boundary"] += sign
        if word.alpha and not word.ident:
            sums["alpha"] += sign
        if word.comma:
            sums["comma"] += sign

    def _add_counts(self, word: _Word, sign: int) -> None:
        sums = self._sums
        if word.repeated:
            sums["repeated"] += sign
        if word.again:
            sums["again"] += sign
        if word.adjacent:
            sums["adjacent"] += sign
        if word.boundary:
            sums["boundary"] += sign
        if word.code:
            self._code_in_window += sign
        if word.alpha:
            sums["alpha"] += sign
            self._count_alpha(word.norm, sign)

    def _count_alpha(self, norm: str, sign: int) -> None:
        counts = self._alpha_counts
        left = counts.get(norm, 0) + sign
        if left:
            counts[norm] = left
        else:
            del counts[norm]  # the distinct words in the window are its keys

    def _track_chain(self, raw: str, index: int) -> None:
        """Count consecutive comma-separated items of at most `chain_item_words` lowercase words."""
        if self._item_words == 0:
            self._item_start = index
        bare = raw.strip("\"'“”‘’()[]*_").rstrip(",;")
        self._item_words += 1
        lowercase = (bool(_CHAIN_ITEM.match(bare)) and len(bare) >= 3) or bare in {"and", "or"}  # not "de, es, fr"
        if not lowercase or self._item_words > self.t.chain_item_words + 1:  # +1 for a trailing "and"
            self._chain_len, self._item_words = 0, 0
            return
        if raw.endswith((",", ";")):
            if self._chain_len == 0:
                self._chain_start = self._item_start
            self._chain_len += 1
            self._item_words = 0
        elif raw.endswith((".", "!", "?")) or "\n" in raw:
            self._chain_len, self._item_words = 0, 0

    # -- judging ---------------------------------------------------------------------------------
    def _chain_of_words(self, index: int) -> bool:
        """Synonyms are words: a list of formats, flags or package names ("rgb, pbm, pgm", "libomp-dev, lld")
        has short items, or items that cost the tokenizer several tokens each."""
        words = self._words[self._chain_start: index + 1]
        if sum(c.isalpha() for word in words for c in word) < self.t.chain_item_letters * len(words):
            return False
        spent = self._tokens_at[index] - self._tokens_at[self._chain_start - 1] if self._chain_start else 0
        return spent <= self.t.chain_item_tokens * self._chain_len  # 0 where tokens are not counted

    def _judge_loop(self, index: int, code: bool = False, math: bool = False) -> bool:
        """A loop: a long run of n-grams seen before, with spans coming round a third time (a span
        repeated only once is a refrain, a quoted line, a changelog's boilerplate). In code, only a
        very long run or a short cycle counts; in display math only a short cycle (a sparse matrix is rows of "0 & 0"
        by design). The period test runs last: it is the costly one."""
        t, size, streak = self.t, len(self._window), self._streak
        third_time = self._streak_again >= t.third_share * streak
        cycle_words = t.short_cycle_words * (3 if code else 1)
        short_cycle = (self._run_again >= cycle_words and self._is_short_cycle(cycle_words)
                       and not self._within_table_width())
        if code:
            long_run = streak >= 2 * t.long_streak and third_time and not math  # an example shown twice: no loop
            looping = long_run or short_cycle
        else:
            long_enough = streak >= t.repeat_streak or (
                streak >= t.streak_min_words and self._tokens_at[index] - self._tokens_at[index - streak] >= t.streak_tokens)
            looping = (streak >= t.long_streak or short_cycle or self._is_tandem(index) or (third_time and long_enough and (
                streak >= 2 * t.repeat_streak or self._period_share(index) >= t.period_share)
                and not self._new_label_in_period(index)))
        if looping:
            self._fire("loop", index - streak - t.ngram + 2)
        elif (not code and self._sums["repeated"] >= t.repeat_share * size and self._code_in_window * 4 < size
              and self._sums["again"] >= t.third_share * self._sums["repeated"]
              and self._period_share(index) >= t.period_share and not self._new_label_in_period(index)):
            self._fire("loop", self._first_repeat(index - size + 1))
        return self.verdict.detected

    def _is_tandem(self, index: int) -> bool:
        """The streak's words are, word for word, the words just before them, over tandem_words or more: a passage
        written again at once, a loop's second time round (real text does not write a long passage twice in a row)."""
        span = self._streak + self.t.ngram - 1
        if not 0 < self.t.tandem_words <= span:  # most words: no streak that long
            return False
        start = index - self._streak + 1  # the streak's first word: how far back its n-gram came is the period
        period = start - self._seen_at[start]
        if not self.t.tandem_words <= period <= span:
            return False
        words = self._words
        return words[index - period + 1: index + 1] == words[index - 2 * period + 1: index - period + 1] and (
            not self._new_label_in_period(index))

    def _note_label(self, index: int) -> None:
        label = _numbers_blanked(self._words[self._line_first: index + 1])
        if label not in self._labels:
            self._labels.add(label)
            self._new_label, self._new_label_at = label, self._line_first
        elif label == self._new_label:  # the new name came round again: a loop of it
            self._new_label_at = -1

    def _new_label_in_period(self, index: int) -> bool:
        """A new heading or short list item since the repeated run last came: the same text under
        another name, as reference pages are written (a loop repeats its headings too)."""
        came = [at for at in (self._seen_at[index], self._seen_at[index - max(self._streak, 1) + 1]) if at >= 0]
        if not came:
            return False
        return self._new_label_at > min(came)  # since the repeated run's first word (or its last) came before

    def _period_share(self, index: int) -> float:
        """Share of repeated words since this word's n-gram last came: the loop's last period."""
        last = self._seen_at[index]
        if last < 0:
            return 0.0
        return (self._repeated_before[index + 1] - self._repeated_before[last + 1]) / (index - last)

    def _within_table_width(self) -> bool:
        """A table row no wider than the rows before it: its cells may all say "n/a" or "✅"."""
        return self._table_line and 0 < self._row_cells <= self._table_cells

    def _is_short_cycle(self, words: int) -> bool:
        """The last words cycle through at most 3 distinct words, some of them words ("Lemminken," again and again)."""
        last = self._words[-words:]
        return len(set(last)) <= 3 and any(c.isalpha() for word in last for c in word)

    def _judge(self, index: int) -> None:
        t, size = self.t, len(self._window)
        first = index - size + 1
        if self._judge_loop(index):
            return
        if self._is_salad(size):
            return self._fire("word_salad", first)
        english = self._english and self._foreign < FOREIGN_SHARE * self._lettered  # soup and token cost: English's
        if english and self._is_soup():
            return self._fire("word_salad", index - len(self._soup) + 1)
        if english and self._is_fragmented(index):
            return self._fire("word_salad", index - self.t.fragment_window + 1)
        if index - self._run_on_start + 1 >= t.run_on_words:
            return self._fire("run_on", self._run_on_start)
        run = index - self._unpunctuated_start + 1
        if self._english and run >= t.unpunctuated_words and (
                run >= t.fluent_run_on_words or not self._is_fluent(self._unpunctuated_start)):
            return self._fire("run_on", self._unpunctuated_start)

    def _is_fluent(self, start: int) -> bool:
        """A run of words held together by function words, as a long sentence is (judged when it ends)."""
        first = self._words[start: start + self.t.unpunctuated_words]
        return sum(word in SENTENCE_GLUE for word in first) >= self.t.fluent_stopwords * len(first)

    def _is_salad(self, size: int) -> bool:
        """A full window that keeps reusing a few words."""
        alpha = self._sums["alpha"]
        return (size == self.t.window and alpha >= size // 2 and self._sums["boundary"] <= size // 10
                and len(self._alpha_counts) / alpha < self.t.min_unique_ratio)  # not a list of short lines

    def _is_soup(self) -> bool:
        """Token soup: a run of words with almost no function words and no sentence or line ends."""
        sums, size = self._soup_sums, len(self._soup)
        if not (size == self.t.soup_window and sums["boundary"] == 0 and sums["comma"] <= 1
                and sums["alpha"] >= size - 2 and sums["stop"] / size <= self.t.soup_max_stopwords):
            return False
        return len({w.norm for w in self._soup}) >= 0.7 * size  # many different words: not a loop

    def _is_fragmented(self, index: int) -> bool:
        """Invented words: a run of plain words that each cost far more tokens than words do."""
        size = self.t.fragment_window
        if index < size or self._plain_run < size:
            return False
        spent = self._tokens_at[index] - self._tokens_at[index - size]  # the tokens of the last `size` words
        return spent >= self.t.fragment_tokens_per_word * size

    def _first_adjacent(self, index: int) -> int:
        for position, word in enumerate(self._window):
            if word.adjacent:
                return index - len(self._window) + position  # the first word of the pair
        return index

    def _first_repeat(self, first: int) -> int:
        """The word where the repeated n-grams of this window begin (the loop's onset)."""
        for position, word in enumerate(self._window):
            if word.repeated:
                return max(first + position - self.t.ngram + 1, 0)
        return first

    def _fire(self, signal: str, onset_word: int) -> None:
        last = len(self._words) - 1
        self.verdict = Verdict(True, self._starts[max(onset_word, 0)], signal, len(self._words),
                               self._starts[last] + len(self._words[last]), self._signal_values())

    def _signal_values(self) -> dict:
        size, alpha = max(len(self._window), 1), max(self._sums["alpha"], 1)
        return {
            "repeat_share": round(self._sums["repeated"] / size, 3),
            "repeat_streak": self._streak,
            "unique_ratio": round(len(self._alpha_counts) / alpha, 3),
            "adjacent_repeats": self._sums["adjacent"],
            "stopword_share": round(self._soup_sums["stop"] / max(len(self._soup), 1), 3),
            "chain_items": self._chain_len,
            "run_on_words": len(self._words) - self._run_on_start,
            **({"surprisal_nats": round(self._nats_sum[1] / self._nats_sum[0], 2)} if self._nats_sum[0] else {}),
        }


def _ends_as_prose(raw: str) -> bool:
    """A word that ends a long sentence or carries it on: "devices.", "(layout,", "`IBM_DB_HOME`", "dm_mirror",
    or opens an aside: "(see #794466).", "(like `shorewall`)"."""
    return raw.rstrip(")]\"'”’*_").endswith((".", ",", ";", ":")) or "`" in raw or "_" in raw or raw[0] == "("


def _starts_table_row(raw: str) -> bool:
    """A line's first word that makes it a table row or rule: "|", "+-----+", "====="."""
    return raw[:1] == "|" or (raw[:1] in "+=" and bool(_TABLE_RULE.match(raw)))


def _compression(raw: bytes) -> float:
    return len(zlib.compress(raw, 6)) / max(len(raw), 1)


_EAST_ASIAN = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}  # one Japanese word mixes three scripts


def _is_foreign_word(bare: str) -> bool:
    """A word of another language as people write one: letters of one script, cased as words are ("Straße",
    "которые", "Ñandú", "日本語"), not a salad's mix ("Locа" with a Cyrillic a, "fonditérevCont")."""
    if not bare.isalpha() or bare not in (bare.lower(), bare.upper(), bare.capitalize()):
        return False
    scripts = {_EAST_ASIAN.get(name, name) for name in (unicodedata.name(ch, "?").split(" ")[0] for ch in bare
                                                        if not ch.isascii())}
    return len(scripts) == 1 and ("LATIN" in scripts or not any(ch.isascii() for ch in bare))


SALAD_SIGNALS = frozenset({"word_salad", "run_on"})
LOCATE_MIN_SIDE = 8  # tokens on each side of a change point: fewer make a mean of noise


def onset_by_surprisal(nats: Sequence[float], onset: int, fired: int, t: Thresholds = Thresholds()) -> int | None:
    """Where a word salad starts, in tokens, from each token's surprisal (nats) under a language model:
    the text signals need tens of words of salad before they fire and then place its onset roughly. The
    start is the single change point in mean surprisal within `locate_lookback` tokens before their onset,
    if the text after it up to where they fired is improbable (>= locate_nats) and clearly more so than the
    text before (+ locate_gap_nats); if that whole stretch is improbable, its start. None: keep the text's
    onset (a drifting salad of ordinary words is no more surprising than prose)."""
    first, fired = max(0, min(onset, fired) - t.locate_lookback), min(fired, len(nats))
    if fired - first < 2 * LOCATE_MIN_SIDE:
        return None
    sums = list(itertools.accumulate(nats[first:fired], initial=0.0))
    span = fired - first

    def mean(a: int, b: int) -> float:
        return (sums[b - first] - sums[a - first]) / (b - a)

    split = max(range(first + LOCATE_MIN_SIDE, fired - LOCATE_MIN_SIDE + 1), key=lambda p: (mean(p, fired) - mean(first, p))
                * ((p - first) * (fired - p) / span) ** 0.5)  # the likeliest single change in the mean
    if mean(first, fired) >= t.locate_nats and mean(first, split) >= t.locate_nats:
        return first  # improbable all the way back: salad from the start of the stretch
    if mean(split, fired) >= t.locate_nats and mean(split, fired) - mean(first, split) >= t.locate_gap_nats:
        return split
    return None


def _digits_blanked(words: Sequence[str]) -> tuple[str, ...]:
    """'Issue #2' and 'Issue #3' alike: what a counting loop repeats."""
    return tuple(_DIGITS.sub("0", word) for word in words)


def _numbers_blanked(words: Sequence[str]) -> tuple[str, ...]:
    """A label's numbers blanked ("Step 2", "(1.0.0-3)"), not the digits of a name ("isReservedWordES5", "TLSv1_2")."""
    return tuple(word if sum(map(str.isalpha, word)) >= 4 else _DIGITS.sub("0", word) for word in words)


def salad_window(nats: Sequence[float], t: Thresholds = Thresholds()) -> tuple[int, int, float] | None:
    """The first `read_tokens`-token window whose mean surprisal reaches `read_nats`, as (its first token,
    the token after it, its mean): how `pipeline check` finds a salad the text signals miss. The bar is
    higher than generation's (a small model finds people's names, numbers and code more surprising than
    its own output), over a longer window."""
    size, sums = t.read_tokens, list(itertools.accumulate(nats, initial=0.0))
    for first in range(len(nats) - size + 1):
        if (total := sums[first + size] - sums[first]) >= t.read_nats * size:
            return first, first + size, total / size
    return None


def detect_collapse(text: str, thresholds: Thresholds = Thresholds(), token_ends: Sequence[int] | None = None,
                    language: str = ENGLISH) -> Verdict:
    """Judge a whole text as if it had streamed in: token by token where the token boundaries are
    known (checks/tokens.py), which also turns on the token-cost signal."""
    detector = CollapseDetector(thresholds, language)
    start = 0
    for end in token_ends or ():
        if detector.feed(text[start:end], 1).detected:
            return detector.finish()
        start = max(start, end)
    detector.feed(text[start:])
    return detector.finish()
