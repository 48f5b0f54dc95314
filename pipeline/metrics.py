"""The quality rubric: a deterministic score in [0, 1] for one improvement, and its DSPy metric form.

Standard library only. Criteria and weights (they sum to 1):

| criterion      | weight | full marks when                                                                 |
|----------------|--------|---------------------------------------------------------------------------------|
| role           | 0.15   | at least two words and not a generic "assistant"/"AI"/"expert" alone             |
| directive      | 0.20   | starts with an imperative verb (half) and names ≥ half of the idea's key terms   |
| framework      | 0.10   | names a known prompting framework (CO-STAR, RISEN, RTF, AIDA, Chain-of-Thought…) |
| guardrails     | 0.20   | 3–7 of them, each concrete (≥ 4 words, not "be clear"/"be accurate"…)            |
| coverage       | 0.15   | the improved prompt mentions ≥ 80% of the idea's key terms                       |
| length         | 0.10   | the prompt is not a copy of the idea and its length is within bounds             |
| no placeholder | 0.10   | no "[insert", "TODO", "lorem ipsum", "<your"… anywhere; otherwise total ≤ 0.6    |

A degenerate answer (template echoes, repetition, copied demonstrations, refusals...) is capped below
0.5 by the flags in `pipeline/degeneracy.py`; `pipeline/quality.py` combines both into the versioned metric.

"Key terms" are the idea's first 10 distinct words of three or more letters that are not stop words; a term
counts as mentioned when a word of the text starts with the term's first five letters ("analyse" matches
"analysis"). An idea without key terms counts as fully covered.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from pipeline.normalize import ImprovedPrompt

QUALITY_THRESHOLD = 0.7  # what BootstrapFewShot accepts as a good demonstration (trace is not None)

# Read-only: a caller tweaking the weights in place would silently change every later score.
WEIGHTS = MappingProxyType({
    "role": 0.15,
    "directive": 0.20,
    "framework": 0.10,
    "guardrails": 0.20,
    "coverage": 0.15,
    "length": 0.10,
    "no_placeholder": 0.10,
})
PLACEHOLDER_CAP = 0.6
MAX_KEY_TERMS = 10
GUARDRAILS_MIN, GUARDRAILS_MAX = 3, 7
MIN_PROMPT_CHARS = 150
MIN_LENGTH_RATIO = 1.5  # the prompt should add at least half the idea's length
MAX_PROMPT_CHARS_FLOOR = 6_000
MAX_LENGTH_RATIO = 30

GENERIC_ROLE_WORDS = frozenset(
    "a an the helpful ai assistant assistants expert chatbot bot model language llm gpt agent smart "
    "knowledgeable friendly useful general purpose professional you are act as".split()
)

KNOWN_FRAMEWORKS = (
    "co-star", "costar", "risen", "rtf", "aida", "chain-of-thought", "chain of thought", "cot", "star", "crispe",
    "race", "care", "ape", "tag", "bab", "before-after-bridge", "pas", "problem-agitate-solve", "smart", "5w1h",
    "react", "few-shot", "tree-of-thought", "tree of thought", "scqa", "prep", "roses", "rise", "trace", "spin",
    "feynman", "socratic", "pyramid principle", "minto", "jobs-to-be-done", "jtbd", "moscow", "rice", "okr",
    "swot", "5 whys", "five whys", "blameless postmortem", "irac", "creac", "double diamond", "gather-craft",
    "step-back", "self-ask", "least-to-most", "self-consistency", "rubric", "pros and cons", "kano", "heart",
    "gherkin", "given-when-then", "diataxis", "inverted pyramid", "storybrand", "4ps", "4cs", "fab",
    "stride", "pyramid principle", "logic model", "mece", "first principles", "six thinking hats", "raci",
)

IMPERATIVE_VERBS = frozenset("""
act add adapt address advise align analyse analyze annotate answer apply appraise argue assess audit author
brainstorm break build calculate categorize categorise check choose clarify classify clean coach code collect
combine compare compile compose compute conduct configure construct convert coordinate craft create critique
debug decide define deliver derive describe design detect determine develop diagnose document draft edit
estimate evaluate examine explain explore extract facilitate find fix forecast formulate frame gather generate
give guide help identify illustrate implement improve interpret investigate label lay list locate map migrate
model monitor name negotiate optimize optimise organize organise outline paraphrase perform pitch plan predict
prepare present prioritize prioritise produce profile propose prototype prove provide publish rank rate recommend
redesign reduce refactor refine reframe rephrase report research resolve respond restructure review revise
rewrite run scope score screen segment select set simplify sketch solve sort specify structure suggest summarize
summarise survey synthesize synthesise teach test train transform translate triage troubleshoot tune turn update
validate verify visualize visualise walk write
""".split())

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing done down during each few for from further get got had has have having
he her here hers him his how i if in into is it its itself just let like make me more most my need needs no nor
not now of off on once only or other our ours out over own please same she should so some such than that the their
them then there these they this those through to too under until up very want wants was we were what when where
which while who whom whose why will with would you your yours some something thing things stuff way really help write
create make give use using based new good better best quick simple short long kind sort
""".split())

PLACEHOLDER_PATTERNS = re.compile(
    r"\[insert|\[your|\[placeholder|<your|<insert|\{your|\{insert|\btodo\b|\btbd\b|lorem ipsum|xxx+|\?\?\?",
    re.IGNORECASE,
)
# Every PLACEHOLDER_PATTERNS alternative contains one of these: a text (lower case) without any cannot match,
# and `in` is ~100x cheaper than the search (a rubric scores thousands of answers in `score`).
PLACEHOLDER_MARKERS = ("[", "<", "{", "todo", "tbd", "lorem ipsum", "xxx", "???")
_WORD = re.compile(r"[^\W_][\w+#']*")  # Unicode words: an idea in French or German has key terms too


def key_terms(text: str, limit: int = MAX_KEY_TERMS) -> list[str]:
    """The idea's first `limit` distinct content words (lower case, stop words and 1–2 letter words dropped)."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = word.strip("'")
        if len(word) >= 3 and word not in STOP_WORDS and not word.isdigit() and word not in terms:
            terms.append(word)
            if len(terms) == limit:
                break
    return terms


def coverage(terms: list[str], text: str) -> float:
    """The share of `terms` mentioned in `text` (a word starting with the term's first five letters)."""
    return coverage_in(terms, set(_WORD.findall(text.lower())))


def coverage_in(terms: list[str], words: set[str]) -> float:
    """`coverage` for a text already split into its (lower-case) words."""
    if not terms:
        return 1.0
    prefixes = {word[:5] for word in words}
    hits = sum(1 for term in terms if term[:5] in prefixes or term in words)
    return hits / len(terms)


def score_role(role: str) -> float:
    """1 for a specific role of ≥ 2 words, 0.6 for one specific word, 0 for empty or generic ("AI assistant")."""
    words = [word.strip("'") for word in _WORD.findall(role.lower())]
    specific = [word for word in words if word not in GENERIC_ROLE_WORDS]
    if not specific:
        return 0.0
    return 1.0 if len(words) >= 2 else 0.6


def is_imperative(directive: str) -> bool:
    """Whether the directive starts (after an optional "Please") with an imperative verb."""
    words = _WORD.findall(directive.lower())
    if words and words[0] == "please":
        words = words[1:]
    return bool(words) and words[0] in IMPERATIVE_VERBS


def score_directive(original_idea: str, directive: str) -> float:
    """Half for an imperative verb first, half for naming ≥ half of the idea's key terms (pro rata below)."""
    if not directive.strip():
        return 0.0
    imperative = 0.5 if is_imperative(directive) else 0.0
    return imperative + 0.5 * min(1.0, coverage(key_terms(original_idea), directive) / 0.5)


def is_known_framework(framework: str) -> bool:
    """Whether the text names a framework from `KNOWN_FRAMEWORKS` (case and punctuation ignored)."""
    text = " " + re.sub(r"[^a-z0-9+-]+", " ", framework.lower().replace("–", "-")) + " "
    compact = text.replace("-", "")
    for name in KNOWN_FRAMEWORKS:
        if f" {name} " in text or f" {name.replace('-', '')} " in compact or (len(name) > 5 and name in text):
            return True
    return False


def score_framework(framework: str) -> float:
    """1 for a known framework, 0.4 for some other named approach, 0 for none."""
    if not framework.strip():
        return 0.0
    return 1.0 if is_known_framework(framework) else 0.4


def is_concrete_guardrail(guardrail: str) -> bool:
    """At least four words and not a vague virtue ("Be clear", "Be accurate and helpful")."""
    words = _WORD.findall(guardrail.lower())
    if len(words) < 4:
        return False
    vague = {"be", "stay", "remain", "keep", "it", "and", "clear", "concise", "accurate", "helpful", "good",
             "professional", "correct", "nice", "polite", "great", "high", "quality", "always", "very", "your",
             "do", "best", "thorough", "detailed", "relevant", "appropriate", "friendly", "careful", "honest"}
    return not all(word in vague for word in words)


def score_guardrails(guardrails: tuple[str, ...] | list[str]) -> float:
    """Count score (1 for 3–7, 0.5 for 2 or 8–10, else 0) times the share of concrete guardrails."""
    count = len(guardrails)
    if GUARDRAILS_MIN <= count <= GUARDRAILS_MAX:
        count_score = 1.0
    elif count == 2 or GUARDRAILS_MAX < count <= 10:
        count_score = 0.5
    else:
        return 0.0
    return count_score * sum(is_concrete_guardrail(item) for item in guardrails) / count


def score_coverage(original_idea: str, improved_prompt: str) -> float:
    """Share of the idea's key terms the prompt mentions, full marks from 80%."""
    return min(1.0, coverage(key_terms(original_idea), improved_prompt) / 0.8)


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def score_length(original_idea: str, improved_prompt: str) -> float:
    """0 for a copy of the idea; 1 within bounds; pro rata when too short; 0.3 when bloated.

    Bounds: at least max(150 characters, 1.5 × the idea) and at most max(6,000 characters, 30 × the idea).
    """
    idea, prompt = _normalised(original_idea), _normalised(improved_prompt)
    if not prompt or prompt == idea:
        return 0.0
    lower = max(MIN_PROMPT_CHARS, MIN_LENGTH_RATIO * len(original_idea))
    upper = max(MAX_PROMPT_CHARS_FLOOR, MAX_LENGTH_RATIO * len(original_idea))
    length = len(improved_prompt.strip())
    if length < lower:
        return 0.5 * length / lower
    return 1.0 if length <= upper else 0.3


def has_placeholder(improved: ImprovedPrompt) -> bool:
    """Whether any text field still holds template filler ("[insert …]", "TODO", "lorem ipsum", "<your …>")."""
    texts = (improved.improved_prompt, improved.role, improved.directive, improved.framework, *improved.guardrails)
    text = "\x00".join(texts)  # one search; no pattern spans the NUL
    lower = text.lower()
    return any(marker in lower for marker in PLACEHOLDER_MARKERS) and bool(PLACEHOLDER_PATTERNS.search(text))


def criteria_scores(original_idea: str, improved: ImprovedPrompt) -> dict[str, float]:
    """Each criterion's score in [0, 1], keyed like `WEIGHTS`."""
    return {
        "role": score_role(improved.role),
        "directive": score_directive(original_idea, improved.directive),
        "framework": score_framework(improved.framework),
        "guardrails": score_guardrails(improved.guardrails),
        "coverage": score_coverage(original_idea, improved.improved_prompt),
        "length": score_length(original_idea, improved.improved_prompt),
        "no_placeholder": 0.0 if has_placeholder(improved) else 1.0,
    }


def score_improvement(original_idea: str, improved: ImprovedPrompt, context: str = "") -> float:
    """The quality metric's score in [0, 1] (deterministic; no model call): the weighted criteria, capped
    at 0.6 for template filler and below 0.5 for a degenerate answer (see `pipeline/quality.py`).

    Builds the metric each call (a few milliseconds); score many answers with one `QualityMetric`.
    """
    from pipeline.quality import QualityMetric

    return QualityMetric().evaluate(original_idea, improved, context).quality


def prompt_quality_metric(example, prediction, trace=None) -> float | bool:
    """The rubric as a DSPy metric, for `dspy.Evaluate` and `BootstrapFewShot`.

    Args:
        example: a `dspy.Example` (or mapping) with `original_idea`.
        prediction: the program's prediction; one that cannot be normalised scores 0.
        trace: None when evaluating; set while bootstrapping, where DSPy expects a pass/fail bool.

    Returns:
        The score in [0, 1], or (with a trace) whether it reaches `QUALITY_THRESHOLD`.
    """
    from pipeline.errors import ImprovementFailed
    from pipeline.normalize import _get, normalize_prediction

    try:
        improved = normalize_prediction(prediction)
        score = score_improvement(str(_get(example, "original_idea") or ""), improved, str(_get(example, "context") or ""))
    except ImprovementFailed:
        score = 0.0
    return score >= QUALITY_THRESHOLD if trace is not None else score
