"""Degeneracy checks: named flags for answers whose shape looks fine but whose content is junk.

Standard library only, no state: each check reads one improvement (and, for copying, a
`DemonstrationIndex` built once by the caller) and says whether a kind of junk is present. The rubric
(`pipeline/quality.py`) caps the score of a flagged answer below 0.5. Every check is written so that an
ordinary good answer passes it; the comments say which normal case each threshold leaves alone.
"""

from __future__ import annotations

import re

from pipeline.metrics import _WORD, PLACEHOLDER_MARKERS, PLACEHOLDER_PATTERNS, coverage_in, key_terms
from pipeline.normalize import ImprovedPrompt

# Our own field names in braces (`{role}`, `{{original_idea}}`, `{## context #}`) or in DSPy's field markers
# (`[[ ## role ## ]]`): a template the model echoed. `{paste the function here}` or `{list of names and
# scents}` names the user's material and passes; so do XML-style sections (`<context>…</context>`) and
# bracketed labels (`[Context]`), which good prompts use.
_FIELDS = (r"(?:original[_ ]idea|idea|context|role|directive|framework|guardrails?|improved[_ ]prompt|reasoning"
           r"|confidence)")
_OWN_FIELD = re.compile(
    r"\{{1,2}\s*#*\s*" + _FIELDS + r"\s*#*\s*\}{1,2}|\[\[?\s*#+\s*" + _FIELDS + r"\s*#+\s*\]\]?", re.IGNORECASE
)
# Template filler anywhere a field's own content was due (role, directive, framework, guardrails).
_FIELD_PLACEHOLDER = re.compile(r"\{[^{}\n\x00]{0,60}\}|" + PLACEHOLDER_PATTERNS.pattern, re.IGNORECASE)
_META = re.compile(
    r"\bas an ai\b|\bas a (?:large )?language model\b|\bi(?:'m| am) (?:just )?an ai\b|\bi(?:'m| am) sorry,? but\b"
    r"|\bi (?:cannot|can't|can not|am unable to|won't) (?:help|assist|provide|fulfil|fulfill|comply|do that)"
    r"|\bi don't have (?:access|the ability)\b|\bas of my (?:last )?knowledge cutoff\b",
    re.IGNORECASE,
)
# Each _META alternative contains one of these (lower case): without any, the search cannot match.
_META_MARKERS = ("as an ai", "language model", "an ai", "sorry", "i cannot", "i can't", "i can not", "unable to",
                 "i won't", "i don't have", "knowledge cutoff")
_FENCE = re.compile(r"```[^\n]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\b\d{1,2}:\d{2}:\d{2}\b")
_VERSION = re.compile(r"\bv\d+\.\d+(?:\.\d+)?\b|\bversion\s*\d+\.\d+|\b\d+\.\d+\.\d+\b", re.IGNORECASE)
_SEPARATOR = "\x00"  # joins fields for one regex search; no pattern here matches across it (records hold no NUL)
_UNIT_PUNCTUATION = " .!?;:,-*#>\"'`"
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
# Words a finished sentence does not end on: articles, prepositions, conjunctions, possessives. (Verbs such
# as "is" can close a heading, "## What this is"; a URL can end in "/": neither is a cut.)
_DANGLING = frozenset(
    "a an the and or but of to in on for with by from at as which whose your our their its if than into onto".split()
)
_CLOSED_END = tuple(".!?:;)]}\"'»”’*`|>")
NGRAM = 5
REPEATED_NGRAM_SHARE = 0.3  # a good prompt repeats few 5-grams ("the number of the"…): well under 10%
NEAR_DUPLICATE = 0.8  # of the shorter guardrail's words in the other; "Do not invent X" / "… Y" is 0.75
MIN_OWN_WORDS = 12  # words a prompt must add to the idea's not to be an echo
OFF_TOPIC_COVERAGE = 0.2
MIN_LETTER_SHARE = 0.5


def words(text: str) -> list[str]:
    """The text's words, lower case (Unicode letters and digits)."""
    return _WORD.findall(text.lower())


def _normalised(text: str) -> str:
    return " ".join(words(text))


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _contained(a: set[str], b: set[str]) -> float:
    """The share of the smaller word set found in the other (sets under three words never count)."""
    small = min(len(a), len(b))
    return len(a & b) / small if small >= 3 else 0.0


def own_field_placeholder(improved: ImprovedPrompt) -> bool:
    """A placeholder naming one of our own fields (`{role}`, `{original_idea}`, `{## context #}`) anywhere,
    or any template slot inside the role, directive, framework or a guardrail (content was due there)."""
    texts = (improved.improved_prompt, improved.role, improved.directive, improved.framework, *improved.guardrails)
    if _OWN_FIELD.search(_SEPARATOR.join(texts)):
        return True
    fields = _SEPARATOR.join((improved.role, improved.directive, improved.framework))
    lower = fields.lower()
    return any(marker in lower for marker in PLACEHOLDER_MARKERS) and bool(_FIELD_PLACEHOLDER.search(fields))


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    """The word n-grams of `tokens`, in order."""
    return list(zip(*(tokens[i:] for i in range(n))))


def _repeated_ngram_share(tokens: list[str]) -> float:
    grams = ngrams(tokens, NGRAM)
    if len(grams) < 8:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def _has_repeated_units(text: str, splitter: re.Pattern[str] | None) -> bool:
    # Case, spacing and end punctuation ignored (a cheap normalisation: a prompt has hundreds of units).
    units = [" ".join(unit.lower().split()).strip(_UNIT_PUNCTUATION)
             for unit in (text.splitlines() if splitter is None else splitter.split(text))]
    units = [unit for unit in units if unit.count(" ") >= 2]  # "Steps:" or "---" may repeat
    return len(units) - len(set(units)) >= 2 or (len(units) >= 2 and len(set(units)) == 1)


def repetition(improved: ImprovedPrompt, prompt_words: list[str] | None = None) -> bool:
    """Repeated lines, sentences or 5-grams in the prompt; a field repeating itself; or two guardrails that
    are the same rule (equal, or ≥ 80% of the shorter one's words in the other)."""
    prompt = improved.improved_prompt
    if _has_repeated_units(prompt, None) or _has_repeated_units(prompt, _SENTENCE_SPLIT):
        return True
    if _repeated_ngram_share(words(prompt) if prompt_words is None else prompt_words) > REPEATED_NGRAM_SHARE:
        return True
    for field in (improved.role, improved.directive, improved.framework):
        tokens = words(field)
        if len(tokens) >= 3 and len(set(tokens)) <= len(tokens) / 2:  # "Teacher teacher teacher"
            return True
    normalised = [_normalised(rule) for rule in improved.guardrails if _normalised(rule)]
    if len(set(normalised)) < len(normalised):
        return True
    rules = [set(words(rule)) for rule in improved.guardrails]
    return any(_contained(rules[i], rules[j]) >= NEAR_DUPLICATE for i in range(len(rules)) for j in range(i))


def _is_users(block: str, user_material: str) -> bool:
    body = _normalised(block)
    return bool(body) and body in _normalised(user_material)


def _without_user_code(text: str, user_material: str) -> str:
    """The text with fenced blocks that quote the user's own material (idea or context) blanked out."""
    return _FENCE.sub(lambda block: " " if _is_users(block.group(1), user_material) else block.group(0), text)


def code_or_metadata(improved: ImprovedPrompt, user_material: str) -> bool:
    """Code fences, timestamps or version strings where prose is due: in the role, directive or framework,
    or a prompt that is mostly fenced code the user did not supply (a block quoting their code is normal)."""
    for field in (improved.role, improved.directive, improved.framework):
        stripped = field.strip()
        if "```" in field or _TIMESTAMP.search(field) or _VERSION.search(field):
            return True
        if stripped[:1] in "{[" and stripped[-1:] in "}]" and len(stripped) > 2:  # a JSON object, not prose
            return True
    if any("```" in rule for rule in improved.guardrails):
        return True
    own = _without_user_code(improved.improved_prompt, user_material)
    foreign = sum(len(block.group(0)) for block in _FENCE.finditer(own))
    prose = words(_FENCE.sub(" ", own))
    return foreign > 0 and (foreign > 0.5 * len(own.strip()) or len(prose) < MIN_OWN_WORDS)


def echo(original_idea: str, improved: ImprovedPrompt, prompt_words: list[str] | None = None) -> bool:
    """The prompt adds fewer than 12 words to the idea's, or two of role, directive, framework and prompt
    are (nearly) the same text. A directive restating the task is normal: the idea is not one of the fields."""
    idea_words = set(words(original_idea))
    prompt_words = words(improved.improved_prompt) if prompt_words is None else prompt_words
    if sum(word not in idea_words for word in prompt_words) < MIN_OWN_WORDS:
        return True
    texts = (improved.role, improved.directive, improved.framework, improved.improved_prompt)
    fields = [set(words(text)) for text in texts]
    return any(
        len(fields[i]) >= 2 and len(fields[j]) >= 2 and _overlap(fields[i], fields[j]) >= 0.9
        for i in range(len(fields)) for j in range(i)
    )


def meta_answer(improved: ImprovedPrompt) -> bool:
    """A refusal or a meta answer ("As an AI language model…", "I'm sorry, but I cannot…") in any field."""
    text = _SEPARATOR.join((improved.improved_prompt, improved.role, improved.directive, *improved.guardrails))
    lower = text.lower()
    return any(marker in lower for marker in _META_MARKERS) and bool(_META.search(text))


def _cut(text: str) -> bool:
    stripped = text.rstrip()
    if not stripped:
        return False
    if stripped.count("```") % 2 or stripped.endswith((",", "-", "(", "[", "{")):
        return True
    if stripped.endswith(_CLOSED_END):
        return False
    last = words(stripped.splitlines()[-1])
    return bool(last) and last[-1] in _DANGLING


def truncated(improved: ImprovedPrompt) -> bool:
    """The prompt or directive stops mid-sentence: on a dangling word ("…for the"), a comma or an
    unclosed fence. A list item or a heading without a final period is normal."""
    return _cut(improved.improved_prompt) or _cut(improved.directive)


def off_topic(original_idea: str, improved: ImprovedPrompt, prompt_words: list[str] | None = None) -> bool:
    """The prompt, role and directive together name under 20% of the idea's key terms (an idea of
    fewer than five key terms: none of them). An idea without key terms is never off topic."""
    terms = key_terms(original_idea)
    if not terms:
        return False
    prompt_words = words(improved.improved_prompt) if prompt_words is None else prompt_words
    named = {*prompt_words, *words(improved.role), *words(improved.directive)}
    return coverage_in(terms, named) < OFF_TOPIC_COVERAGE


def _letter_share(text: str) -> float:
    visible = len("".join(text.split()))
    return sum(map(str.isalpha, text)) / visible if visible else 1.0


def mostly_non_letters(improved: ImprovedPrompt, user_material: str) -> bool:
    """Under half of the visible characters are letters, in the prompt (the user's own fenced code
    aside) or in the role or directive."""
    if _letter_share(_without_user_code(improved.improved_prompt, user_material)) < MIN_LETTER_SHARE:
        return True
    return any(_letter_share(field) < MIN_LETTER_SHARE for field in (improved.role, improved.directive))
