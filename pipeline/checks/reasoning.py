"""The model's reasoning written into the answer with no think markers around it ("Okay, the user wants me to
write a section about memory. Let me check the facts they gave..."): reasoning models do this when a template or
server drops the opening marker, or when they think again after answering ("Wait, did I cover the 48 GB limit?").
Flagged, never cut: where the reasoning ends and the section begins is a reviewer's call. A sentence counts only
when it talks about the writing task itself (the user, the section, the brief, the word count), so a post's own
"the user wants to log in" or "I need to write a cron job" stays content; a paragraph counts when it names the task,
talks to itself and weighs options at once (_CUES); a checklist of the draft against the brief counts whole. Pure."""

from __future__ import annotations

import re

from .text import CODE, blanked

# What the writer is asked for and given: a sentence about these is about the task, not the post's subject
_TASK = (r"(?:section|paragraph|blog post|post|draft|heading|brief|word count|word limit|\d+[-\s]words?|words|tone|"
         r"first[- ]person|facts?|research notes|notes (?:they|you) (?:gave|provided)|instructions|outline|intro(?:duction)?|"
         r"conclusion|the reader|readers|audience|style)")
# ... of which these name nothing a post writes about too ("I'll write a separate post about the migration"): what the
# writer plans or checks is judged by them
_OWN_TASK = (r"(?:sections?|paragraphs?|heading|brief|word count|word limit|tone|first[- ]person|facts?|"
             r"research notes|instructions|outline)")
_WORDS = r"\d+[-\s]words?"  # a length target needs no "the": "I need to keep it under 250 words"
# The user spoken of in the third person, asking for the writing: "the user wants me to", "the user provided facts"
_THE_USER = re.compile(rf"\b(?:the|this) user(?:'s)? (?:(?:also |just |probably |might |may |clearly )?(?:wants?|wanted|"
                       rf"asked|asks|is asking|has asked|needs?|requested|provided|provides|gave|gives|mentioned|"
                       rf"specified|said|says|wrote|expects|emphasi[sz]ed|listed|included|prefers|didn't|did not|"
                       rf"might want|would want|would like|'s (?:request|brief|notes|facts|instructions|query|prompt))"
                       rf"|request|brief|notes|facts|instructions|query|prompt)\b[^.!?\n]*\b{_TASK}\b", re.IGNORECASE)
# The writer planning or checking its own answer: "I need to write the section in first person", "Let me make sure
# the numbers match the brief", "I should mention the 3 GB cap ... the facts"
_SELF_TASK = re.compile(rf"\b(?:i need to|i should|i have to|i must|i'll need to|i will need to|i'll|i will|let me|"
                        rf"let's|i can|i want to|i'm going to|i am going to|now,? i|first,? i|next,? i|then,? i)\s+"
                        rf"(?:also |just |quickly |briefly |probably )?(?:write|draft|mention|include|cover|check|"
                        rf"make sure|ensure|start|structure|keep|stay|stick|avoid|use|recall|think|figure out|look at|"
                        rf"go through|count|verify|double-check|confirm|tackle|craft|compose|wrap up|end|open|begin|"
                        rf"focus|highlight|emphasi[sz]e|explain|address|incorporate|weave|plan|outline|organi[sz]e|"
                        rf"aim|add|put|see|consider|review|re-?read|tie|connect|follow|match|fit|adjust|trim|expand|"
                        rf"not|defend|say|answer|open with)\b[^.!?\n]*\b(?:(?:the|this|each|a|my|their|your|that) (?:\w+ )?"
                        rf"{_OWN_TASK}|{_WORDS})\b|"
                        rf"\b(?:let me|let's|i'll|i will|now,? i'll) (?:start by (?:outlining|listing|thinking|planning|"
                        rf"noting|figuring)|put (?:it|this|that|everything) (?:all )?together|tackle this|think about how to "
                        rf"(?:open|start|begin|end|close|structure|phrase|approach|frame))\b|"
                        rf"\b(?:i'm|i am) (?:supposed|asked|meant|expected) to (?:write|draft|cover|produce)\b|"
                        rf"(?:^|\b(?:then|and|also|still|should|now)\s+)(?:need to|must|should) (?:also )?(?:keep|write|"
                        rf"mention|cover|include|double[- ]check|make sure)\b[^.!?\n]*\b(?:(?:the|this|each|that) (?:\w+ )?"
                        rf"{_OWN_TASK}|{_WORDS}|this|it)\b|"
                        rf"\b(?:double[- ]check(?:ing)?|cross[- ]check(?:ing)?|checking|verifying) (?:the|against the) "
                        rf"(?:facts|brief|notes|instructions)\b|\b(?:covers?|covered|hits?|addresses) (?:everything|all the "
                        rf"points|every point) (?:in|from|of) the (?:brief|facts|notes|instructions)\b|"
                        rf"\bnow,? (?:writing it (?:out|up)|let me write|to write (?:it|the section))\b|"
                        rf"\b(?:draft|section) ends here\b",
                        re.IGNORECASE)
# "The instructions say ...", "the brief mentions ...": the prompt reported on (never a participle: "the instructions
# required for building", "the requirements specified in")
_PROMPT_SAYS = re.compile(rf"\b(?:the|their) (?:(?:instructions?|brief|prompt|guidelines|requirements|research notes|notes|"
                          rf"outline|style guide|tone guide|operating data|facts (?:list|provided|given|they gave)|"
                          rf"notes they gave|heading|title) (?:says?|said|asks?|mentions?|specifies|wants?|wanted|requires|"
                          rf"lists|gives|gave|includes|states|tells? me|told me|emphasi[sz]es|calls|suggests?|puts?|"
                          rf"flagged|leans)|"
                          rf"(?:brief|notes|outline|style guide|tone guide) (?:had|has|don't|doesn't|do|are))\b"
                          rf"(?=[^.!?\n]*\b(?:i|me|my|so|{_OWN_TASK}|{_WORDS}|to (?:mention|include|cover|keep|write|focus|"
                          rf"emphasi[sz]e|stick|avoid|use|start|end|open))\b)", re.IGNORECASE)
# Turns of phrase only a writer working to a request uses: "per the request", "Final answer above.", "Go with (a)",
# "Target ~200 words.", "Does this sound too much like an ad?", "the user said to avoid ..."
_AS_ASKED = re.compile(r"\bper the (?:request|brief|style guide|tone guide)\b|"
                       r"\bfinal answer (?:above|below)\b|\b(?:produce|write|give|output) the final answer\b|^the task:|"
                       r"\bgo(?:ing)? with (?:option |draft )?(?:\d\b|\([a-z]\))|^draft \d:|^okay,? writing\b|"
                       r"^now the (?:conclusion|intro|ending|closing|opening)\b|\bnext (?:paragraph|sentence) should\b|"
                       r"\b(?:target|word count)(?: length)? (?:is )?(?:~|about |around |roughly )?\d+(?:[-\u2013]\d+)? words\b|"
                       r"\btarget (?:is )?~\d+|\bword count is (?:~|about |around |roughly )?\d+|\bunder the \d+(?:[- ]word)? "
                       r"target\b|\b(?:is|does) (?:this|that|it) (?:sound|read|seem|feel) too\b|\bthe user(?:'s)? (?:said|"
                       r"mentioned|specified) to\b|\bthe user's (?:notes|brief|outline|request|"
                       r"instructions)\b|\bthe heading they gave\b", re.IGNORECASE)
# A checklist of the draft against its brief: "- under 200 words: 183, yes", "- heading matches outline: yes"
_CHECK_ITEM = re.compile(r"(?im)^[ \t]*[-*\u2022][ \t]+[^:\n]{2,60}:[^\n]{0,24}\b(?:yes|no|good|done|ok|fine)\b[^\n]*$")
_CHECKED_TASK = re.compile(rf"\b(?:{_OWN_TASK}|{_WORDS}|mentions?|notes|style|target)\b", re.IGNORECASE)
# The section judged against its target: "The section should be about 110 words", "that's around 120 words"
_SECTION_SHOULD = re.compile(rf"(?:^|\b(?:so|now|and|but|then),?\s+)(?:the|this|my) (?:section|paragraph|draft|post|answer|"
                             rf"response) (?:should|needs to|"
                             rf"must|has to|is supposed to|ought to)\b[^.!?\n]*\b{_TASK}\b|\bthe section (?:needs to|has to|"
                             rf"is supposed to)\b|\bshould double[- ]check\b|\b(?:that's|that is|this is|it's|"
                             rf"it is) (?:about|around|roughly|approximately|under|over|close to|just over|just under|"
                             rf"already) \d+ words\b|\blet me count\b|\bcount(?:ing)? the words\b", re.IGNORECASE)
# Thinking aloud at a sentence's start, about the task: "Wait, did I cover the 48 GB limit?", "Hmm, maybe I should ..."
_ALOUD = re.compile(r"^(?:wait|hmm+|okay,? so|ok,? so|alright,? so|so,? the user|"
                    r"hold on|actually,? (?:i|the user|wait))\b[,.!]?\s*[\u2014\u2013-]?\s*(?:did i|have i|"
                    r"i (?:should|need|forgot|missed|think i should)|maybe i|should i|the user|that's|let me|is that|"
                    r"does that|do i|the (?:section|"
                    r"brief|facts|instructions|heading|user))\b", re.IGNORECASE)
# A paragraph of deliberation worded in ways no sentence pattern above knows: it names the task (a task noun), the
# writer speaks to itself (a plan, a question to itself or a terse note) and it weighs options (a hedge at a
# sentence's start), four of these five together. People's paragraphs carry three at most (0 of 17,092 sections).
_CUES = {
    "plan": re.compile(r"\b(?:i'll|i will|i should|i need to|i could|i must|let me|let's|i'm going to|should i|do i|did i|"
                       r"have i|i can just|i'd better|going with|go with)\b", re.IGNORECASE),
    "hedge": re.compile(r"(?:^|[.!?]\s+)(?:maybe|probably|perhaps|hmm+|actually|wait|okay|ok|alright|right|so|no|yes|good|"
                        r"fine|better|then)\b", re.IGNORECASE),
    "task": re.compile(r"\b(?:sections?|paragraphs?|intro|introduction|conclusion|opening|ending|closing line|heading|title|"
                       r"draft|brief|notes|outline|facts|word count|words|target|tone|style guide|the reader|readers|"
                       r"audience|the user|request|prompt|template|next sentence|first sentence)\b", re.IGNORECASE),
    "question": re.compile(r"[^.!?\n]*\b(?:i|should|does this|is this|is it|what about|or)\b[^.!?\n]*\?", re.IGNORECASE),
    "note": re.compile(r"(?:^|[.!?\n]\s*)(?:mention|keep it|keep this|open with|end with|close with|drop|skip|add|cut|avoid|"
                       r"then the|need to|no need|use that|go with)\b", re.IGNORECASE),
}
_TO_ITSELF = frozenset({"plan", "question", "note"})
DELIBERATION_CUES = 4
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_QUOTE = re.compile(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)
_PATTERNS = (_THE_USER, _SELF_TASK, _PROMPT_SAYS, _AS_ASKED, _SECTION_SHOULD, _ALOUD)


def reasoning_sentences(text: str) -> list[str]:
    """The sentences of prose (code and quotes blanked) that reason about the writing task, then the paragraphs that
    deliberate about it and hold none of those, then a checklist of the draft."""
    prose = blanked(blanked(text, CODE), _QUOTE)  # quoted words are shown, not said: "output like \"Okay, let me ...\""
    sentences = (match.group().strip() for match in _SENTENCE.finditer(prose))
    found = [sentence for sentence in sentences if any(pattern.search(sentence) for pattern in _PATTERNS)]
    found += [paragraph.strip() for paragraph in _PARAGRAPH.split(prose) if _deliberates(paragraph)
              and not any(sentence in paragraph for sentence in found)]
    checklist = [item.strip() for item in _CHECK_ITEM.findall(prose)]
    if len(checklist) >= 2 and any(_CHECKED_TASK.search(item) for item in checklist):
        found += [item for item in checklist if item not in found]
    return found


def _deliberates(paragraph: str) -> bool:
    if not _CUES["task"].search(paragraph):  # most paragraphs stop here; the question's pattern is the costly one
        return False
    cues = {"task"} | {name for name, pattern in _CUES.items()
                       if name != "task" and (name != "question" or "?" in paragraph) and pattern.search(paragraph)}
    return bool(cues & _TO_ITSELF) and len(cues) >= DELIBERATION_CUES

