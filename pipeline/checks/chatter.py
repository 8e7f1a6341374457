"""Assistant chatter around a section: a preamble ("Sure! Here is your section:"), a heading that repeats
the section's own, the prompt's instructions echoed back ("You are writing one section at a time…"),
and an offer, question or note to the user ("Would you like another section?", "(Word count: 112)").
Trimmed only at the very start or end of the text, and only a line that hands over, names or offers the
writing itself: a line that introduces the writer's own things ("Here is the section of my crontab that
matters:") or a question the text answers is content. Echoed instructions inside the content are reported
instead. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .collapse import STOPWORDS

# A line is judged on its plain words: emphasis, emoji, a byte-order mark and curly apostrophes do not hide it
_DECORATION = re.compile(r"[*_`\ufeff\u200b-\u200f\u2060\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]+")
# On a line of its own only these say yes to the asker (people write "No problem!" and "Great!" in READMEs too) ...
_UNDERSTOOD = r"got it|understood|will do|you got it"  # alone with a full stop too: unlike "Certainly.", never a thought
_YES = (rf"sure(?: thing)?|certainly|of course|absolutely|okay|ok|alright|all right|{_UNDERSTOOD}|"
        r"(?:i'd|i would|i'm|i am) (?:be )?(?:happy|glad) to help(?: with that| you)?|happy to help|"
        r"i can (?:help|do) (?:with )?that")
_ACK_ONLY = re.compile(rf"(?:(?:{_YES})\s*[!.,]*\s*)+", re.IGNORECASE)
_ACK_DONE = re.compile(rf"(?:{_UNDERSTOOD}|noted|on it)[!.]*", re.IGNORECASE)
# ... before the answer is handed over, these too
_ACK = (rf"(?:{_YES}|great|no problem|as requested|(?:i'd|i would|i'm|i am) (?:be )?(?:happy|glad) to (?:help|write|do)"
        r"(?: [^.!:\n]{0,40})?|(?:what an? |that's an? )?(?:great|good|interesting|fun|excellent) "
        r"(?:idea|topic|question|choice)(?: for an? (?:blog )?post)?)")
_ACKS = rf"(?:{_ACK}\s*[!.,]*\s*(?:[-\u2013\u2014]\s*)?)"
# The model handing over its answer: "Here's your section:", "Below is the section you asked for:", ...
_HANDING = re.compile(
    rf"{_ACKS}*(?:here(?:'s| is| are)|below (?:is|are|you'll find)|(?:the following|what follows) is|"
    r"i've (?:written|drafted|rewritten|revised|put together)|i have (?:written|drafted|rewritten|revised))\b"
    r"(?P<before>(?:\s+(?:[\w,'~\u2248-]+|\"[^\"]*\"|\u201c[^\u201d]*\u201d)){0,6}?)\s+"
    r"(?P<noun>section body|section text|section|draft|paragraph|text|content|post|answer|response|"
    r"introduction|intro|conclusion|rewrite|part|piece|chapter|article|write-up|version|revision|passage|body|"
    r"example|take|attempt)(?![\w-])(?P<after>[^:]*)$", re.IGNORECASE)
_TRY_NOUNS = frozenset({"example", "take", "attempt"})  # also content's words: only before prose ("Here's an example:")
_WH = frozenset("what how why where when which who whose".split())
# After the noun: its topic, title, length or addressee ("on memory", "titled ...", "of about 110 words", "you asked
# for"), never the writer's own things ("of my crontab", "I got from the server", "the job follows": content)
_TOPIC = re.compile(r"\A(?:$|[\s,]*(?:on|about|at|for|titled|called|named|based|in|with|using|following|that you|"
                    r"you|as|from your|in your|written|\d+|[\"\u201c'(\u2014\u2013-])|\s+of\s+\"\"|\s+of\s+(?:section|part)\s+\d|"
                    r"\s+of\s+(?:about\s+|around\s+|"
                    r"roughly\s+)?\d|\s+of\s+(?:how to|writing|(?:the|your|this|that)\s+[^:]{0,80}?\b(?:section|post|"
                    r"paragraph|article|text|draft|blog post|introduction|part)\b))", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d")  # a title in quotes is the topic, its words not the writer's
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|me|my|mine|we|our|us)\b", re.IGNORECASE)
_RELATIVE = re.compile(r"(?<!\bon )(?<!\babout )\b(?:that|which|who|where)\b(?!\s+you)", re.IGNORECASE)  # not "on where …"
# "a draft that sticks to your research notes": a relative clause about the asker's brief, not the writer's things
_FROM_YOUR_BRIEF = re.compile(r"\byour (?:research|notes|brief|facts|instructions|request|outline|guidelines)\b|"
                              r"\byou (?:asked|requested|gave|provided|wanted)\b", re.IGNORECASE)
# Talk to the one who asked for the text, not to its readers: what they asked, their notes, what the model can redo
# (not "let me know" nor "P.S.": a post's author says both to its readers; nor "you wanted", "you specified": docs do)
_TO_THE_ASKER = re.compile(
    r"\byou asked\b|\bas (?:you )?requested\b|\b(?:as )?per your\b|\bwhenever you(?:'re| are) ready\b|"
    r"\byour (?:research notes|notes|instructions|brief|request|outline|guidelines|constraints|prompt|voice)\b|"
    r"\bi can (?:also )?(?:make|shorten|expand|rewrite|revise|reorder|flatten|lead|add|trim|tighten|adjust|tweak|split|"
    r"merge|stitch|draft|turn|swap|change|cut|drop|restructure|rework|redo)\b|\b(?:shall|should) i\b|"
    r"\bi'll (?:redo|rework) (?:it|this|that|the)\b|"
    r"\b(?:does|did|do) (?:that|this|it) (?:capture|work for you|match|fit|cover|hit)\b|"
    r"\bif (?:you'd|you would) (?:like|prefer|rather)\b|\bwould you (?:like|prefer|rather)\b|\bhappy to (?:reorder|"
    r"revise|rewrite|adjust|change|shorten|expand|kick off|start)\b", re.IGNORECASE)
_SECTION_NUMBER = r"\bsections?\s+\d+\b(?![.,]\d)"  # "section 4", not a numbered subsection ("Section 4.2")
# The text named as a requested piece of writing: "section 4", "110 words", "first person"
_NAMED_AS_A_PIECE = re.compile(rf"{_SECTION_NUMBER}|\b\d+\s+words\b|\bfirst person\b|\bin your voice\b", re.IGNORECASE)
# ... or spoken of as one: its section, length, wording, shape
_ABOUT_THE_TEXT = re.compile(
    rf"{_NAMED_AS_A_PIECE.pattern}|\b(?:this|the|that|next|previous|each|first|final|last|opening|closing|whole) "
    r"(?:section|sections|draft|post|paragraphs?|heading|series|rhythm|tone|opening)\b|\bword count\b|\bbody text\b|"
    r"\bfigures? above\b|\bwrite (?:that|this|it) up\b|\bhere goes\b|\bno (?:heading|summary|preamble|closing summary)\b",
    re.IGNORECASE)
# An opening that acknowledges the ask before the answer: "Alright, section 4 is about ...", "Noted on the constraints."
_ACK_START = re.compile(rf"\A(?:{_YES}|right|noted|happy to)\b", re.IGNORECASE)
_ACK_OPENING = re.compile(rf"{_ACK_START.pattern}\s*[!.:\u2014\u2013-]", re.IGNORECASE)  # "Of course," is prose
TALK_WORDS = 70  # a paragraph of talk about the answer is short; past this it is the writer's own
# What a request for a section is made of, in kinds: the piece named as one, its length, its style, the request itself,
# the text as a deliverable. A short edge paragraph with two kinds talks about the text, not its subject
_REQUEST_TERMS = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    rf"{_SECTION_NUMBER}|\b(?:first|second|third|fourth|fifth|final|last|next|opening|closing) section\b",
    r"\b\d+\s+words\b|\bword (?:count|target|limit)\b",
    r"\bfirst person\b|\bplain (?:english|prose)\b|\bshort paragraphs?\b|\bbullet points\b|"
    r"\bno (?:heading|preamble|summary|bullets|bullet points)\b|\btone\b|\bstyle notes\b",
    r"\bas (?:you )?(?:asked|requested)\b|\byou (?:listed|asked for|requested|gave|provided|specified)\b|"
    r"\byour (?:notes|brief|outline|instructions)\b|\b(?:figures|numbers|facts) (?:provided|given|you gave)\b",
    r"\b(?:body|section) text\b|\bsection body\b|\bdraft \d+\b|\bthis draft\b|\breader in mind\b",
))
_WRITING_TERMS = (_REQUEST_TERMS[1], _REQUEST_TERMS[2], _REQUEST_TERMS[4])  # its length, style, form: not its notes
REQUEST_TALK_WORDS = 40  # two kinds of request terms in a paragraph this short: talk about the text
_WRITER_REMARK = re.compile(r"\A(?:i(?:'ve| have)? (?:aimed|kept|tried|written|focused|gone|opted)|"
                            r"i'll (?:cover|keep|write|walk|explain|break|focus|stick|give)|writing this (?:one|section)|"
                            r"(?:this|it) (?:one )?(?:comes in at|runs|clocks in at))\b", re.IGNORECASE)
_THANKS_FOR_THE_ASK = re.compile(r"\A(?:thanks|thank you) for (?:the|this|your) (?:[\w-]+ ){0,2}(?:notes|brief|prompt|"
                                 r"request|outline|instructions|context)\b", re.IGNORECASE)


def _request_terms(words: str, kinds: tuple[re.Pattern, ...] = _REQUEST_TERMS) -> int:
    """How many kinds of request terms the words hold."""
    return sum(1 for terms in kinds if terms.search(words))


def _made_of_the_request(words: str, opening: bool, told: Told | None) -> bool:
    """"Here is the section body, no heading included:", "Plain prose, short paragraphs, no bullet points:": two kinds
    of request terms, or one opening the answer with a yes, a remark on the writing or (its length, style or form) a
    colon; docs name their sections and "your notes" before a colon too."""
    own = " ".join(s for s in _SENTENCES.split(words) if not (told and _is_echo(s, told)))  # an echo is flagged apart
    terms = _request_terms(own)
    return terms >= 2 or (opening and terms > 0 and bool(_ACK_START.match(words) or _WRITER_REMARK.match(words) or (
        words.endswith(":") and _request_terms(own, _WRITING_TERMS))))


def _talks_about_the_answer(words: str, opening: bool = False, told: Told | None = None) -> bool:
    """A short paragraph that speaks to the asker (or, opening the answer, acknowledges the ask) about the text as a
    piece of writing: "I kept this close to 110 words ... I can lead with the 10 GB figure", "Should the next section
    keep this level of detail?", "Alright, section 4 is about why each section is a separate call." A reader is
    addressed about the subject ("If you'd like to try it, the script is below"), not about the section or its notes.
    Or a paragraph made of what the request was made of (_REQUEST_TERMS, two kinds; one when it opens the answer with a
    yes, a remark on the writing or a colon): "Here is the section body, no heading included:". `told`: the prompt,
    whose echoed sentences are left out of that count (they are flagged, and the text around them may be content)."""
    count = len(words.split())
    if count > TALK_WORDS:
        return False
    if opening and _ACK_START.match(words) and _NAMED_AS_A_PIECE.search(words):
        return True  # "Alright, section 4 is about why ...": a comma after the yes, but the section named as asked for
    if count <= REQUEST_TALK_WORDS and _made_of_the_request(words, opening, told):
        return True
    if not _ABOUT_THE_TEXT.search(words):
        return False
    return bool(_TO_THE_ASKER.search(words) or (opening and _ACK_OPENING.match(words)))


_ADDRESSEE = re.compile(r"\b(?:you|your|requested)\b", re.IGNORECASE)
# "Here's a breakdown of how you can go about writing that section:": a reply about the writing itself.
_ABOUT_WRITING = re.compile(r"(?:here(?:'s| is| are)|below is)\b.{0,160}\b(?:writ(?:e|ing)|draft(?:ing)?)\b.{0,40}"
                            r"\b(?:section|paragraph|post|part)\b[^:]{0,40}:$", re.IGNORECASE)
# "I'll write this section in first person, focusing on ...": the model saying how it will answer
_PLAN = re.compile(r"(?:i'll|i will|i'm going to|let me) (?:write|draft|keep|start|begin|focus on|structure) "
                   r"(?:this|that|the|your) (?:section|post|paragraph|draft)\b[^:]*[.:!]$|"
                   r"here(?:'s| is) what i (?:came up with|wrote|have|put together)\s*[:.!]$", re.IGNORECASE)
# Looser, so only after a yes ("Sure thing. I'll keep it to 110 words.", "Got it. Section 3, first person."): alone,
# "I'll explain why I chose 48 GB." can open a post
_ANSWER_PLAN = re.compile(r"(?:(?:i'll|i will|let me) (?:keep|write|stick|aim|make|avoid|draft|focus|use|explain|"
                          r"describe|cover|outline|walk|break)\b[^:]*|"
                          r"(?:writing|drafting) (?:the |this |your )?(?:next )?section(?: \d+)?(?: now)?|"
                          r"(?:(?:the )?(?:final|last|next) )?section(?: (?:\d+|one|two|three|four|five|six|seven|eight))?"
                          r"(?: of \d+)?(?: follows)?(?:[,.!] [^:]*)?|(?:keeping|aiming for|sticking to)\b[^:]*|"
                          r"(?:final|last|next) section\b[^:]*)[.!:]*", re.IGNORECASE)
_PLAN_AS_ASKED = re.compile(r"(?:i'll|i will|let me) \w+\b[^:]*\bas (?:you )?(?:requested|asked)[.!:]*", re.IGNORECASE)
_HANDING_TITLE = re.compile(r"(?:here(?:'s| is)|below is)\s+(?P<title>\"[^\"]+\"|\u201c[^\u201d]+\u201d)\s*"
                            r"(?:\([^)]*\))?(?:,\s*[^:\"]{0,40})?\s*[:!.]?",
                            re.IGNORECASE)
# A chat template's own marks around the answer, printed as text: "<|assistant|>", "### Response:", "</s>"
_ROLE_OPENING = re.compile(r"\A\s*(?:<\|assistant\|>|<\|im_start\|>assistant|### (?:response|assistant):)[ \t]*\n?",
                           re.IGNORECASE)
_END_TOKEN = re.compile(r"(?:\n[ \t]*</s>|\n?[ \t]*<\|(?:im_end|eot_id|endoftext|end)\|>)\s*\Z")  # HTML's <s>…</s> closes inline
_AS_AN_AI = re.compile(r"\A\s*as an ai(?: language model| assistant| model)?\b[^.!?\n]*[.!?]?[^\n]*\n+", re.IGNORECASE)
_PROSE_START = re.compile(r"\A\s*[A-Z\"\u201c\u2018']")  # a new sentence, not a fence, list, table, code or its tail
_FLATTERY = re.compile(r"\A\s*(?:what an?|that's an?|that is an?)?\s*(?:great|good|excellent|interesting)\s+"
                       r"question[!.]+[ \t]*", re.IGNORECASE)
_HEADING_PREFIX = re.compile(r"\A(?:>\s*)?(?:#+\s*)?(?:(?:section|part|step|chapter)\s*\d*(?:\s+of\s+\d+)?\s*"
                             r"[:.\u2014\u00b7-]\s*|"
                             r"(?:section title|title|heading)\s*:\s*|\d+[.)]\s+)?", re.IGNORECASE)
_WORD_COUNT_NOTE = re.compile(r"\s*\((?:(?:approx\.?|about|~)?[^()]*\bwords?\b[^()]*|(?:section|part) \d+ of \d+)\)\s*:?\s*\Z",
                              re.IGNORECASE)
_PLACE_ONLY = re.compile(r"\[?(?:section|part) \d+(?: of |/)\d+\]?[.:]?|\[(?:section|part) \d+(?: of |/)\d+[^\]\n]*\]",
                         re.IGNORECASE)  # "Section 5 of 5", "[Section 4/5]", "[Section 3/5 — The three MLX limits I set]"
# A line all in emphasis that names the section by its number: "*Section 5 — the closing section of the post*"
_PLACE_LABEL = re.compile(r"(?P<mark>[*_]{1,2})\s*(?:section|part) \d+\b(?![.,]\d)[^*_\n]{0,80}(?P=mark)", re.IGNORECASE)
# A line in Chinese or Japanese that hands over an English answer ("好的，以下是第三节的正文：")
_CJK_HANDOVER = re.compile(r"(?:好的|当然|以下是|下面是)[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]*[:\uff1a]\s*")
_SETEXT = re.compile(r"\A[ \t]*(?:=+|-+)[ \t]*(?:\n+|\Z)")
_RULE_LINE = re.compile(r"\n[ \t]*(?:-{3,}|\*{3,}|_{3,}|[\u2014\u2013])[ \t]*\Z")
_RULE_ONLY = re.compile(r"[ \t]*(?:-{3,}|\*{3,}|_{3,}|[\u2014\u2013])[ \t]*")
# The whole answer in a fence, as chat UIs show it: ```markdown, or a plain or text one (then only around prose)
_FENCE_WRAP = re.compile(r"\A\s*(?P<opener>```(?:(?P<markdown>markdown|md)|text|txt|plaintext)?)[ \t]*\n"
                         r"(?P<body>.*)\n```[ \t]*\Z", re.DOTALL | re.IGNORECASE)
_FENCE_LINE = re.compile(r"(?m)^[ \t]*```[ \t]*(\S*)")
# An offer or question to the user, on the last line: it names the writing or the help ("Want me to adjust the
# tone?", "Let me know if you'd like any changes!"); a question the text answers is content ("Should I have bought
# the 128 GB model? No: ...")
_OFFER = re.compile(
    r"\A(?:please |just )?(?:would you like|do you want|want me to|shall i|should i|let me know|"
    r"if you(?:'d| would)? (?:like|want),? i (?:can|could)|is there anything|how can i (?:help|assist)|"
    r"can i help|i can (?:also )?(?:expand|adjust|revise|"
    r"shorten|lengthen|add|rewrite|write|tweak|make|continue)|(?:i'd|i would|i'm|i am) (?:be )?happy to|happy to|"
    r"feel free to (?:ask|let me know|tell me) (?:if|whether)|what would be|i hope (?:this|that|it) helps)\b",
    re.IGNORECASE)
_ABOUT_THE_ANSWER = re.compile(
    r"\b(?:section|draft|post|paragraph|article|version|changes?|adjust\w*|tweak\w*|revis\w+|expand\w*|shorten|"
    r"shorter|longer|lengthen|tone|edit\w*|anything else|further|help|assist\w*|questions?|feedback|another|"
    r"more detail|elaborate|what you think|modif\w+|rewrite|continue|next one|move on|next|turn|convert|instead|format\w*|"
    r"bullet\w*|trim\w*|examples?|proceed|title|suggestions?|meta description|transitions?|smooth\w*|go back|chang\w*)\b",
    re.IGNORECASE)
_HOPE_IT_HELPS = re.compile(r"\A(?:i )?hope (?:this|that|it) helps(?: you)?(?: with your (?:\w+ )?(?:post|blog|article|"
                            r"newsletter))?\s*[!.]*\Z", re.IGNORECASE)
# A closing that speaks to the person who asked: wishes, hopes about the answer, how it fits their post
_SIGN_OFF = re.compile(
    r"\A(?:(?:[\[(]\s*end(?: of (?:the )?(?:section|post|draft|part)(?: \d+)?)?\s*[.!]?\s*[\])]|\[your [\w ]+\])|"
    r"(?:good luck with (?:(?:the|your) )?(?:blog|post|article|writing|publishing)|let me know if you'd like|"
    r"hope you (?:like|enjoy) (?:it|this)|"
    r"if you have any (?:other |more |further )?questions|"
    r"looking forward to (?:the next|more|"
    r"working|your)|that's it for (?:this|the) (?:one|section|part)|thanks? (?:you )?for (?:working|collaborating|letting me)|"
    r"(?:the )?end[.!]?$|next up(?: is| would be|:) (?:section|part) \d+|"
    r"happy (?:writing|blogging)|(?:i )?hope (?:this|that|it) (?:captures|fits|works|matches|is what|meets your|suits your)|"
    r"does (?:this|that|it) (?:work|look good|sound good|fit) for you|does (?:this|that|it) capture what you "
    r"(?:wanted|were after|had in mind)|hope (?:it'?s|this is) (?:good|ok|okay)|"
    r"thanks? (?:you )?for (?:the|this|your) (?:[\w-]+ ){0,2}(?:topic|question|request|opportunity|prompt|brief|notes|"
    r"instructions)|(?:just )?say the word|"
    r"(?:i'm |i am )?ready (?:for|to write) (?:the next|section \d+|part \d+|more)|ready (?:when|whenever) you are|"
    r"i hope you (?:enjoy|like) "
    r"(?:this|the) (?:section|post|draft)|this (?:should|will|would) (?:fit|work|slot|flow) (?:well |nicely )?"
    r"(?:in(?:to)?|with) (?:the rest of )?your (?:post|article|blog|draft)|i hope (?:this|the|my) (?:\w+ )?(?:section|post|"
    r"draft|text|article) (?:meets|fits|is helpful|helps|wraps|works|captures|matches|suits|is what)|i hope you "
    r"(?:enjoy(?:ed)?|find|found|like)|thank you for the opportunity|enjoy (?:writing|your)|please (?:do not|don't) "
    r"hesitate|if you need (?:any )?(?:(?:further |more )?adjustments|changes|revisions|edits|"
    r"(?:more|additional|further) (?:details|changes|"
    r"edits|help))|feel free to "
    r"(?:modify|adjust|tweak|edit|change|adapt|customi[sz]e) (?:this|the) (?:section|draft|text|post)|(?:i'm |i am |"
    r"i'd be |i would be )?happy to (?:help|adjust|revise|tweak|expand|swap|change|write|make|add|rewrite|shorten|"
    r"provide|assist))\b|(?:good luck|feel free to ask)[!.]*$|next\?$|end of (?:the )?(?:section|post|draft|part)(?: \d+)?[.!]?$|"
    r"(?:i )?hope (?:this|that|it)(?:'s| is) (?:useful|helpful)(?: to you)?(?:,? and thanks?(?: you)? for (?:the|your) "
    r"[^.!?]*)?[!.]*$|"
    r".*\bplease let me know[.!]*$|.*\b(?:(?:verify|check|double-check|confirm) .*\bbefore (?:publishing|posting|sending)|"
    r"as (?:you )?requested|as you asked|per your (?:instructions|request|brief|notes)|"
    r"let me know if you (?:want|need|would like)|i can (?:also )?(?:simplify|expand|adjust|revise|shorten|"
    r"lengthen|add|rewrite|write|tweak|make|continue|provide|include)|in (?:the|your) next section,? you "
    r"(?:might|may|could|should))\b)", re.IGNORECASE)
# Signing off a letter to the asker: only with an offer or note beside it ("Thank you!" may thank a newsletter's readers)
_VALEDICTION = re.compile(r"\A(?:thank you|thanks|best regards|kind regards|regards|cheers|sincerely|best|done|all done|"
                          r"notes?:)[!.,]*\Z",
                          re.IGNORECASE)
# A model that runs past its turn writes the chat on: "User: thanks, next section please\nAssistant: Sure! ..."
_NEXT_TURNS = re.compile(r"\n[ \t]*\n(?:user|human)[ \t]*:[^\n]*\n+(?:assistant|ai|bot)[ \t]*:(?:(?!```).)*\Z",
                         re.IGNORECASE | re.DOTALL)  # a transcript the post shows, a code block after it, is content
_NOTE = re.compile(r"\A\(?\s*(?:note|n\.b\.|please note)\s*(?::|that)\s*", re.IGNORECASE)
# Leave to change the answer, for the asker's post: "Feel free to adjust the tone to match the rest of your post."
_EDITS = r"tweak|adjust|modify|edit|adapt|change|customi[sz]e|replace|swap|update"  # what the asker may do to it
_FREE_TO_CHANGE = re.compile(rf"\Afeel free to (?:{_EDITS}|drop|remove|cut|trim|shorten|expand|rename)\b.*\b(?:your "
                             r"(?:post|blog|article|style|voice|audience|needs)|the rest of|if you(?:'d| would)? "
                             r"(?:prefer|like|want|rather)|to (?:match|suit|fit))\b", re.IGNORECASE)
# The assistant offering to do more: "Want me to add a checklist?", "Let me know if you'd like me to add a snippet!"
_OFFERS_TO_DO = re.compile(r"\b(?:would you like|do you want|want|if you(?:'d| would)? (?:like|want|prefer)) me to\b|"
                           r"\Aif you(?:'d| would) prefer\b", re.IGNORECASE)
# Said alongside an offer, a remark about the choices made or the user's freedom to change them is chatter too
_REMARK = re.compile(rf"\A(?:feel free to (?:{_EDITS})|"
                     r"i(?:'ve| have)? (?:focused|kept|used|"
                     r"wrote|tried|aimed|avoided|chose|included|made|left)|this (?:section|version|draft) (?:flows|fits|"
                     r"leads|sets up|covers|keeps|focuses|explains|introduces|describes)|you (?:can|could|may|might) "
                     r"(?:want to )?(?:adjust|change|tweak|swap|replace|edit|customi[sz]e|adapt|add|cover|link|expand)|"
                     r"(?:this|the) (?:\w+ )?can be (?:customi[sz]ed|adapted|adjusted|tailored)|(?:the|these) (?:\w+ )?"
                     r"(?:numbers|figures|amounts|prices|examples|links|names) (?:above )?are (?:examples|placeholders|"
                     r"illustrative|hypothetical)|that's (?:section|part) \d+|the (?:post|series|article) is (?:now )?"
                     r"complete|(?:that|this) (?:completes|wraps up|concludes|finishes)\b|"
                     r"in the (?:next|final|last) section|please (?:consult|verify|check|double-check|confirm)|"
                     r"(?:and )?(?:that|this) (?:wraps up|completes) (?:all|the|this)|"
                     r"(?:section|part) \d+(?: of \d+)? (?:complete|done|finished))\b",
                     re.IGNORECASE)
# A note about the writing itself: "(Word count: 112)", "Note: I've kept it under 150 words.", "I used only your facts."
_ABOUT_ITSELF = re.compile(
    r"\A(?:in summary|to summari[sz]e|overall),? this section (?:explains|covers|walks (?:you )?through|describes|"
    r"outlines|shows|introduces|highlights|breaks down)\b.*|\Ain this (?:\w+ )?section,? i (?:explained|covered|described|"
    r"showed|outlined|walked|discussed|introduced|focused)\b.*|\A\(\s*[~\u2248]?\s*\d+ words\b[^)]*\)\.?\Z|"
    r"\A\(?(?:note|n\.b\.)\s*:\s*.*\b(?:notes|facts|figures|numbers|instructions) (?:you )?(?:provided|gave|given|supplied)\b.*|"
    r"\A\(?\s*(?:approx(?:imate)?\.?\s*|total\s*)?(?:word count|tone|reading time|facts used|figures used|sources used)"
    r"\s*:.*|\Atotal\s*:\s*[~\u2248]?\s*\d+ words\b.*|\A\(?(?:approx(?:imate(?:ly)?)?\.?|about|around|roughly|[~\u2248])\s*\d+ "
    r"words\b.*|\A\(?\s*(?:approx(?:imate)?\.?\s*|"
    r"total\s*)?word count\b.*|\Athis (?:section|post|draft|version) is (?:approximately |about |around |roughly |"
    r"(?:just )?under )?~?\d+ words\b.*|\Athis (?:section|post|draft|text) (?:is|was) (?:written|based|intended|"
    r"designed|meant|kept)\b.*|\A\(?(?:note|n\.b\.)\s*:\s*(?:(?:i|i've|i have) (?:only |just )?(?:kept|used|wrote|written|"
    r"followed|avoided|included|aimed|focused|tried|stuck|left out|chose|omitted|rounded|assumed)|word count)\b.*|"
    r"\A(?:kept|used|followed|avoided|included|stuck|written|wrote|aimed|focused)\b.*\b(?:as requested|words|instructions|"
    r"you (?:provided|gave)|provided|your (?:notes|facts|research|brief|guidelines)|guidelines|requirements)\b.*|"
    r"\Athis (?:section|draft|version)\b.*\b(?:requested (?:length|word count)|word (?:count|limit)|as requested)\b.*|"
    r"\Ai(?:'ve| have)? (?:kept|used|written|made|followed|avoided|"
    r"included|stuck|tried|aimed|focused)\b.*\b(?:as requested|as you asked|words|instructions|style (?:guide|notes)|"
    r"your (?:notes|facts|"
    r"research|brief|guidelines)|guidelines|requirements)\b.*", re.IGNORECASE)
_NOTES_BLOCK = re.compile(r"\n[ \t]*\**(?P<label>[^\n:]{1,60}?)\**[ \t]*:[ \t]*\**[ \t]*\n+"
                          r"(?P<items>(?:[ \t]*(?:[-*+\u2022]|\d+[.)])[^\n]*(?:\n+|\Z))+)\Z", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"(?:key points(?: covered)?|what i (?:did|changed|covered)|changes made|(?:quick )?recap"
                           r"(?: of what i covered)?|summary of (?:changes|what i covered)|how i followed (?:your|the) "
                           r"instructions|checklist|(?:a (?:couple|few) of |some )?notes on (?:this|the|my) "
                           r"(?:draft|section|text|choices)|notes on choices)",
                           re.IGNORECASE)
# what a note on the answer is about: the prompt's own terms ("- About 110 words", "- First person, concrete")
_COMPLIANCE = re.compile(r"\b(?:\d+ words|first person|plain english|short paragraphs|no (?:heading|preamble|summary)|"
                         r"heading|preamble|complete (?:final )?sentence|facts (?:list|provided)|research notes|instructions|"
                         r"as requested|as asked|tone)\b", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"\u201c(\[])")  # "3 a.m. on" stays one sentence
_FIRST_SENTENCE = re.compile(r"\A\s*(.+?[.!?])(?:\s+|\Z)", re.DOTALL)
_CLAUSE_END = re.compile(r"[.!?;:\n]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NOT_WORD = re.compile(r"[\W_]+")
# How an instruction starts: the writer is told what to do (a research note or a fact is not).
_IMPERATIVES = frozenset(
    "write explain describe say list summarise summarize use keep end avoid include give cover mention "
    "compare show tell answer pick choose start focus make break walk outline introduce conclude".split())
# "Style: first person, concrete, plain English." in the prompt: a label and its first sentence, or its whole line
_LABELLED_LINE = re.compile(r"(?m)^[A-Z][\w ]{0,30}: (?:[^\n]+?[.!?](?=\s|$)|[^\n]+$)")
# The value of a line that tells the writer how to write ("Style: first person, concrete, plain English."), said alone
_STYLE_LINE = re.compile(r"(?mi)^(?:style|tone|voice|format|length)\s*: (?P<value>[^\n]+?[.!?])(?=\s|$)")
_ADDRESSED = re.compile(r"\b(?:you|your|do not|don't)\b", re.IGNORECASE)
MIN_ANSWER_WORDS = 40  # a fenced answer is a section's worth of prose; a syntax example is a few lines
PROSE_FUNCTION_SHARE = 0.25  # of a plain fence's words: English prose runs ~40-50% function words, code and logs far fewer
PROSE_LINE_WORDS = 10  # a plain fence's words a line, on average: a paragraph is a line of an answer, a log's lines are short
UNWRAPPED_LINE_CHARS = 120  # a paragraph on one line, as models write them: preformatted text wraps at 70-80
CLOSING_LINES = 6  # "**Notes:**", three notes on the answer and an offer, as a list
MIN_ECHO_WORDS = 5  # shorter clauses ("Write plainly.") are too common to call an echo


@dataclass(frozen=True)
class Trimmed:
    text: str
    removed: list[str]  # what was cut, for run.json
    echoed: list[str] = field(default_factory=list)  # instructions repeated inside the content: flagged, kept


def normalised(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def is_instruction(clause: str) -> bool:
    words = clause.split()
    first = words[0].lstrip("-*• ").lower() if words else ""
    return len(words) >= MIN_ECHO_WORDS and (first in _IMPERATIVES or bool(_ADDRESSED.search(clause)))


@dataclass(frozen=True)
class Told:
    """The prompt's clauses, normalised, and which of them instruct the writer (a subset of the clauses)."""

    clauses: frozenset[str] = frozenset()
    instructions: frozenset[str] = frozenset()
    framing: frozenset[str] = frozenset()  # the prompt's labelled lines: "Style: first person, concrete, plain English."


def told_in(prompt_texts: Iterable[str]) -> Told:
    texts = list(prompt_texts)
    sentences = [[c.strip().lstrip("-*• ") for c in _CLAUSE_END.split(sentence)]
                 for text in texts for sentence in _SENTENCE_END.split(text)]
    clauses = [c for sentence in sentences for c in sentence]
    instructions = [c for sentence in sentences if any(is_instruction(c) for c in sentence) for c in sentence
                    if len(c.split()) >= MIN_ECHO_WORDS]
    framing = [m.group(0) for text in texts for m in _LABELLED_LINE.finditer(text)]
    framing += [m.group("value") for text in texts for m in _STYLE_LINE.finditer(text)]
    return Told(frozenset(normalised(c) for c in clauses if c), frozenset(normalised(c) for c in instructions),
                frozenset(normalised(line) for line in framing if len(line.split()) >= MIN_ECHO_WORDS))


def _is_echo(piece: str, told: Told) -> bool:
    """The piece is the prompt's own text, clause for clause, with at least one instruction in it: research
    notes the writer reuses are content, not an echo."""
    clauses = [normalised(c) for c in _CLAUSE_END.split(piece) if normalised(c)]
    if not clauses:
        return False
    if normalised(piece) in told.framing or len(clauses) == 1 and _begins_instruction(clauses[0], told):
        return True
    return all(c in told.clauses for c in clauses) and any(c in told.instructions for c in clauses)


def _begins_instruction(clause: str, told: Told) -> bool:
    """"Write about 110 words in short paragraphs." from "Write about 110 words in short paragraphs and end with …", "Use
    these exact numbers, no others." from "Facts you may cite (use these exact numbers, no others)"."""
    return is_instruction(clause) and any(f" {clause} " in f" {told_clause} " for told_clause in told.clauses)


def plain(line: str) -> str:
    """A line's words as a reader sees them: no emphasis, emoji or invisible marks; straight apostrophes."""
    return " ".join(_DECORATION.sub("", line).replace("\u2019", "'").split())


def _is_heading_repeat(line: str, heading: str) -> bool:
    """The section's own heading, however dressed: "## 1. Why ...", "**Section: Why ...**", "Title: Why ...",
    "Why ...:", "**Why ...** (approx. 110 words)"."""
    bare = _bare_heading(_WORD_COUNT_NOTE.sub("", plain(line)))
    if bare[-1:] in (".", "?", "!") and not line.lstrip().startswith(("#", "*", "_")):
        return False  # "Where the 64 GB goes?" opening the section: a sentence, not a heading
    return bool(heading) and bool(bare) and normalised(bare) in (normalised(_bare_heading(heading)), normalised(heading))


def _bare_heading(line: str) -> str:
    """A heading without its number or label ("3. ", "Step 2:", "Title:") or quotes."""
    return _HEADING_PREFIX.sub("", line.strip(), count=1).rstrip(":").strip().strip("\"\u201c\u201d").strip()


def _first_line(text: str) -> tuple[str, str]:
    """The first non-blank line and everything after it (blank lines before the rest dropped, its indentation kept)."""
    body = text.lstrip("\n\r\t \ufeff")
    line, _, rest = body.partition("\n")
    return line, rest.lstrip("\n") if not rest.strip() else _without_blank_lines(rest)


def _without_blank_lines(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _cut_before(text: str, rest: str) -> str:
    """What goes when `rest` (a suffix of the text) is kept, as recorded: a byte-order mark included."""
    return text[: len(text) - len(rest)].strip()


def _is_handing_over(line: str, rest: str) -> bool:
    """The model handing over its answer on a line of its own ("Sure! Here's your section:"), maybe with a remark on
    it ("... section. I kept it in first person as requested."); not a line that introduces the writer's own things
    ("Here is the section of my crontab that matters:", "Here's the draft schedule the job follows:") or goes on
    into the text ("Here's the short version:\n\nthe OS takes 10 GB")."""
    first, *others = _SENTENCES.split(plain(line))
    if others and all(_closing_kind(sentence) for sentence in others):
        return _hands_over(first, rest)
    return _hands_over(plain(line), rest)


def _hands_over(words: str, rest: str) -> bool:
    if not words or rest[:1].islower():
        return False
    if _ACK_ONLY.fullmatch(words) and words.rstrip()[-1:] in "!:," or _ACK_DONE.fullmatch(words):
        return True  # "Sure!", "I'd be happy to help!" ("Certainly." may open a sentence's thought)
    unacked = re.sub(rf"\A{_ACKS}+", "", words, flags=re.IGNORECASE)
    planned = _PLAN.fullmatch(unacked) or _PLAN_AS_ASKED.fullmatch(unacked) or (
        unacked != words and _ANSWER_PLAN.fullmatch(unacked))  # after a yes: "Of course. Section 2 of 5 follows."
    if re.fullmatch(r"here (?:you go|you are|it is|we go)[!.:]*", unacked, re.IGNORECASE) or (
            planned and _PROSE_START.match(_after_rule(rest))):
        return True
    if _ABOUT_WRITING.match(re.sub(rf"\A{_ACKS}*", "", words, flags=re.IGNORECASE)) and not _FIRST_PERSON.search(
            words.split("writ")[0]):
        return True
    match = _HANDING.fullmatch(words.rstrip(":!. "))
    if not match or words.rstrip()[-1:] not in ":!." or set(match.group("before").lower().split()) & _WH:
        return False
    after = _QUOTED.sub('""', match.group("after"))
    before = re.sub(r"\A\s*my\b", "", match.group("before"), flags=re.IGNORECASE)
    from_brief = bool(_FROM_YOUR_BRIEF.search(after))
    if not (_TOPIC.match(after) or from_brief) or _FIRST_PERSON.search(before + after) or (
            _RELATIVE.search(after) and not from_brief):
        return False
    noun = match.group("noun").lower()
    plainly = noun in ("section", "draft") or (noun == "version" and "section" in after.lower())
    if words.rstrip()[-1] != ":" and not (plainly or _ADDRESSEE.search(words) or re.match(_ACKS, words, re.IGNORECASE)):
        return False  # "Here is the section." alone reads as content; "Here's your section!" does not
    return match.group("noun").lower() not in _TRY_NOUNS or bool(_PROSE_START.match(rest))


def _hands_over_title(line: str, heading: str) -> bool:
    """"Alright! Here's "The three MLX limits I set":": the section handed over by its own heading."""
    words = re.sub(rf"\A{_ACKS}+", "", plain(line), flags=re.IGNORECASE)
    title = _HANDING_TITLE.fullmatch(words)
    return title is not None and bool(heading) and normalised(title.group("title")) == normalised(heading)


def _leading(text: str, heading: str, told: Told) -> tuple[str, str] | None:
    """One piece of chatter at the start, and the rest; None when the text starts with content."""
    if lead := _AS_AN_AI.match(text) or _FLATTERY.match(text) or _ROLE_OPENING.match(text):
        return lead.group().strip(), text[lead.end():]
    line, rest = _first_line(text)
    if _is_handing_over(line, rest) or _is_echo(line, told) or _hands_over_title(line, heading) or (
            rest.strip() and (_talks_about_the_answer(plain(line.lstrip("> \t")), opening=True, told=told)
                              or _stands_alone(line, text, rest))):
        rest = _after_rule(rest)  # "Here is the section:\n\n---\n\n## Heading": the rule goes with it
        return _cut_before(text, rest), rest
    if _is_heading_repeat(line, heading) or _PLACE_ONLY.fullmatch(plain(line)):
        underline = _SETEXT.match(rest)  # "Why ...\n=====": its underline goes with it
        rest = _without_blank_lines(rest[underline.end():]) if underline else rest
        return _cut_before(text, rest), rest
    sentence = _FIRST_SENTENCE.match(text)
    if sentence and _is_echo(sentence.group(1), told):
        return sentence.group(1).strip(), text[sentence.end():]
    return None


def _stands_alone(line: str, text: str, rest: str) -> bool:
    """A first line that is only a yes ("Absolutely." with a blank line after it), a place label in emphasis, thanks
    for the notes, or Chinese handing over English text: nothing in it belongs to the section. (A bare "Output:" is
    not: READMEs put it over their examples' output, indented or fenced.)"""
    words = plain(line)
    alone = re.match(r"[^\n]*\n[ \t]*\n", text.lstrip("\n\r\t \ufeff")) is not None  # a paragraph of its own
    yes = alone and words == line.strip() and words[-1:] in ".!" and _ACK_ONLY.fullmatch(words) is not None
    return yes or _PLACE_LABEL.fullmatch(line.strip()) is not None or (
        _THANKS_FOR_THE_ASK.match(words) is not None and len(words.split()) <= REQUEST_TALK_WORDS) or (
        _PROSE_START.match(rest) is not None and _CJK_HANDOVER.fullmatch(line.strip()) is not None and rest.isascii())


def _closing_kind(sentence: str) -> str | None:
    """"offer" for what ends a reply to its asker (an offer, a hope that it helps, a note on the writing, a wish);
    "remark" for what only goes along with one ("I focused on ...", "Feel free to tweak ..."); None for content."""
    words = sentence.strip()
    if (note := _NOTE.match(words)) and _closing_kind(words[note.end():]):
        return "offer"  # "Note: feel free to adjust the prices": an aside to the asker
    if _VALEDICTION.match(words):
        return "remark"
    if _HOPE_IT_HELPS.match(words) or _ABOUT_ITSELF.match(words) or _SIGN_OFF.match(words) or (
            _OFFER.match(words) and _ABOUT_THE_ANSWER.search(words)) or _OFFERS_TO_DO.search(words) or \
            _FREE_TO_CHANGE.match(words):
        return "offer"
    return "remark" if _REMARK.match(words) else None


def _line_kind(line: str) -> str | None:
    """"offer" for a line of closing talk with an offer among it, "remark" for one of remarks alone, None for content:
    a question the text goes on to answer ("Should I have bought the 128 GB model? No: ...") is content."""
    words = re.sub(r"\A[-*+\u2022]\s+", "", plain(line))  # "- Kept to about 120 words" in a list of notes
    if _talks_about_the_answer(words):
        return "offer"
    kinds = [_closing_kind(sentence) for sentence in _SENTENCES.split(words) if sentence.strip()]
    return None if not kinds or None in kinds else ("offer" if "offer" in kinds else "remark")


def _after_rule(text: str) -> str:
    line, _, rest = text.partition("\n")
    return _without_blank_lines(rest) if _RULE_ONLY.fullmatch(line) and rest.strip() else text


def _without_edge_rules(text: str) -> tuple[str, list[str]]:
    lines, rules = text.strip("\n").split("\n"), []
    while len(lines) > 1 and _RULE_ONLY.fullmatch(lines[0]):
        rules.append(lines.pop(0).strip())
        while lines and not lines[0].strip():
            lines.pop(0)
    while len(lines) > 1 and _RULE_ONLY.fullmatch(lines[-1]):
        rules.append(lines.pop().strip())
        while lines and not lines[-1].strip():
            lines.pop()
    return "\n".join(lines), rules


def _starts_sentence(before: str, line: str) -> bool:
    """The last line is a sentence of its own, not the end of one that began above ("... email us\nif you want ...")."""
    words = plain(line)
    above = plain(before.rpartition("\n")[2])
    return not words[:1].islower() and (before.endswith("\n") or before.rstrip()[-1:] in ".!?:)]" or words[:1] == "["
                                        or bool(re.match(r"[-*+\u2022]\s", line.lstrip()))  # a list of notes
                                        or bool(_RULE_ONLY.fullmatch(before.rpartition("\n")[2]))  # a rule above
                                        or bool(_VALEDICTION.match(above))  # "[Your Name]" under "Best regards,"
                                        or bool(re.match(r"[\w ]{1,20}:", words)))  # "Tone: casual" under "Word count: 75"


def _notes_on_the_answer(text: str) -> re.Match | None:
    """A list at the end under "Notes:" with a note on the answer among them ("Kept to about 120 words"), under a label
    about the answer ("Key points covered:"), or a menu of offers ("Would you like me to:"): a README's "Notes:" list
    about its software stays."""
    block = _NOTES_BLOCK.search(text)
    if block is None:
        return None
    items = [line for line in block.group("items").split("\n") if line.strip()]
    label = plain(block.group("label"))
    if _ANSWER_LABEL.fullmatch(label) or _OFFERS_TO_DO.search(label):
        return block  # "Key points covered:", "Would you like me to:"
    notes = re.fullmatch(r"notes?", label, re.IGNORECASE)
    return block if notes and any(_line_kind(item) == "offer" or _COMPLIANCE.search(item) for item in items) else None


def _trailing(text: str, told: Told) -> tuple[str, str] | None:
    """The closing lines at the end: up to CLOSING_LINES lines of offers, notes and sign-offs with an offer (or an echo) among
    them ("I hope this meets your requirements.\n\nThank you!", "Best regards,\n[Your Name]"), or the model writing the
    next turns of the chat itself."""
    body = text.rstrip()
    if end := _END_TOKEN.search(body):
        return end.group().strip(), body[:end.start()]
    if (turns := _NEXT_TURNS.search(body)) and body.count("```", 0, turns.start()) % 2 == 0:
        return turns.group().strip(), body[:turns.start()]
    kept, kinds = body, []
    for _ in range(CLOSING_LINES):
        if notes := _notes_on_the_answer(kept):
            kinds.append("offer")
            kept = kept[:notes.start()].rstrip()
            continue
        before, _, line = kept.rpartition("\n")
        if not before.strip() or not _starts_sentence(before, line):
            break
        kind = "offer" if _is_echo(line, told) else _line_kind(line)
        if kind is None:
            break
        kinds.append(kind)
        kept = before.rstrip()
    if "offer" not in kinds:
        return None
    kept = _RULE_LINE.sub("", kept).rstrip()  # a "---" left above the offer goes too
    return body[len(kept):].strip(), kept


def _is_answer(fenced: str, heading: str) -> bool:
    """A ```markdown fence holding the section itself (under its heading, or as prose), not a README's example of
    Markdown syntax (a table, front matter, badges, headings to show how they render)."""
    return _is_heading_repeat(_first_line(fenced)[0], heading) or (
        len(fenced.split()) >= MIN_ANSWER_WORDS and bool(_PROSE_START.match(fenced)))


def _blocks_inside(fenced: str) -> bool:
    """The fences inside a wrapped answer open code blocks with a language and close them bare ("```python" ... "```"):
    a bare one where a block would open closes the wrapper instead (a page's code, its prose, more code: content)."""
    inside = False
    for language in _FENCE_LINE.findall(fenced):
        if inside == bool(language):  # an opener needs a language, a closer has none
            return False
        inside = not inside
    return not inside


def _reads_as_prose(fenced: str) -> bool:
    """Paragraphs of sentences held together by function words, each on one line, as a model writes a section: a plain
    fence's log, code, config or error message is not (short lines, indented ones, few function words), nor is text
    preformatted to a width (a license in an info manual, a plain-text email)."""
    lines = [line for line in fenced.split("\n") if line.strip()]
    words = fenced.lower().split()
    return (not any(line[:1] in " \t" for line in lines) and len(words) >= PROSE_LINE_WORDS * len(lines)
            and max(map(len, lines)) >= UNWRAPPED_LINE_CHARS
            and sum(word.strip(".,;:!?\"'()") in STOPWORDS for word in words) >= PROSE_FUNCTION_SHARE * len(words))


def _wrapped_answer(text: str, heading: str, after_chatter: bool) -> re.Match | None:
    """The whole text in one fence that holds the answer (after chatter, any prose; alone, the section itself); a
    plain or text fence only around a model's prose."""
    wrapped = _FENCE_WRAP.match(text)
    if wrapped is None or not _blocks_inside(wrapped["body"]):
        return None
    answer = after_chatter or _is_answer(wrapped["body"], heading)
    return wrapped if answer and (wrapped["markdown"] or _reads_as_prose(wrapped["body"])) else None


def trim_chatter(text: str, heading: str = "", prompt_texts: Iterable[str] = ()) -> Trimmed:
    """Cut chatter from both ends while content remains; report instructions echoed inside."""
    told = told_in(prompt_texts)
    removed: list[str] = []
    for _ in range(2):  # the whole answer in a ```markdown fence, as chat UIs show it: around the chatter or inside it
        if wrapped := _wrapped_answer(text, heading, bool(removed)):
            removed, text = [*removed, f"{wrapped['opener']} … ```"], wrapped["body"]
        for cut in (lambda t: _leading(t, heading, told), lambda t: _trailing(t, told)):
            while (step := cut(text)) and step[1].strip():
                removed.append(step[0])
                text = step[1]
        if removed:  # a rule left between the chatter and the content ("Here is the section:\n\n---\n\n...") goes too
            text, rules = _without_edge_rules(text)
            removed += rules
    echoed = [s.strip() for s in _SENTENCE_END.split(text) if s.strip() and _is_echo(s, told)]
    return Trimmed(text.rstrip() if removed else text, removed, echoed)
