"""Follow-up questions, resolved against the conversation without a language model.

    "Who is Kayani?"  ->  "When did he arrive in Moscow?"
                          searched as "When did Kayani arrive in Moscow?"
    "Why was Putin's visit cancelled?"  ->  "And what did Gazprom want?"
                          searched as "What did Gazprom want? (context: Putin's visit cancelled)"

The rules are few and visible (the chat shows the question it searched):
1. a pronoun (he/his/she/her, they/them/their, it/its) that the question itself
   does not explain is replaced by a name from the nearest earlier turn:
   people for he and she (a name after a title such as "Gen" or "President",
   or before "said"), named things and groups for it and they;
2. an elliptical opening ("And ...", "What about ...?") or a pronoun or
   "this/that" with no name to put in its place carries the topic of the
   previous question along, as "(context: ...)".
A question that names what it asks about and has none of these is searched as
typed. Deliberately left out: gender, number agreement beyond joining two
names with "and", and coreference inside the answers' own sentences.
"""
from __future__ import annotations

import re
from typing import Sequence, Union

Turn = Union[str, Sequence[str]]           # a question, or (question, answer text)

MAX_FOLLOWUP_CHARS = 300                   # longer questions are taken as standalone
MAX_TURNS, MAX_TURN_CHARS = 10, 5_000      # how far back, and how much of each turn, is read
_CONTEXT = re.compile(r"\s*\(context: [^()]*\)\s*$")
_OPENER = re.compile(r"^\s*(?:and|but|also|so|then|ok(?:ay)?|plus)\b[\s,]*(?=\S)", re.I)
_ABOUT = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?:what|how)\s+about\b", re.I)
_LEAD = re.compile(r"^\s*(?:(?:and|but|also|so|then)\b[\s,]*)?(?:(?:what|how)\s+about|why|when|where|who|whom|"
                   r"whose|what|which|how(?:\s+(?:much|many|long|far|often|big|old))?)?\s*"
                   r"(?:(?:was|were|is|are|did|does|do|has|have|had|will|would|can|could|should|might|may)\b\s*)?",
                   re.I)
_PERSON = {"he": "{}", "him": "{}", "himself": "{}", "his": "{}'s",
           "she": "{}", "her": "{}", "herself": "{}", "hers": "{}'s"}     # "her": object or possessive
_GROUP = {"they": "{}", "them": "{}", "themselves": "{}", "their": "{}'s", "theirs": "{}'s"}
_THING = {"it": "{}", "its": "{}'s", "itself": "{}"}
_LIGHT_VERBS = {"want", "wanted", "do", "did", "say", "said", "mean", "happen", "think", "like", "get",
                "need", "go", "come", "make", "take", "see"}
_DEMONSTRATIVE = re.compile(r"\b(?:this|that|these|those)\b", re.I)
_DUMMY_IT = re.compile(r"\bit\s+(?:true|possible|likely|clear|said|reported|known|necessary)\b", re.I)
_NAME_WORD = r"[A-Z][\w\-]*(?:[’'][A-Za-z]+)?"
_RUN = re.compile(rf"{_NAME_WORD}(?:\s+{_NAME_WORD})*")
_OWNED = re.compile(rf"({_NAME_WORD})[’']s\s+([a-z][\w\-]*)")         # "Putin's visit"
TITLES = {"mr", "mrs", "ms", "dr", "gen", "general", "president", "minister", "prime", "chief", "director",
          "col", "colonel", "col-gen", "marshal", "commodore", "admiral", "senator", "governor", "king",
          "queen", "prince", "sir", "lord", "judge", "ambassador", "envoy", "secretary", "chancellor",
          "mayor", "professor", "prof", "editor", "spokesman", "spokeswoman", "lt", "maj", "capt", "sgt"}
STOP = {"a", "an", "the", "and", "but", "or", "so", "also", "then", "what", "why", "when", "where", "who",
        "whom", "whose", "which", "how", "was", "were", "is", "are", "did", "does", "do", "has", "have",
        "had", "will", "would", "can", "could", "should", "might", "may", "in", "on", "at", "to", "for",
        "of", "by", "with", "from", "after", "before", "despite", "according", "later", "meanwhile", "still",
        "however", "nonetheless", "now", "this", "that", "these", "those", "it", "its", "he", "she", "they",
        "his", "her", "their", "there", "as", "if", "not", "no", "yes", "tell", "me", "please", "give",
        "list", "show", "explain", "describe", "ok", "okay", "plus", "first", "next", "last", "i", "we"}
ROLES = ("head", "chief", "leader", "director", "commander", "envoy", "editor", "spokesman", "minister",
         "president", "analyst", "expert", "reader", "ambassador", "founder", "chairman", "secretary")
ORG_WORDS = {"organisation", "organization", "mills", "plant", "ministry", "forces", "council", "summit",
             "project", "bank", "company", "university", "college", "center", "centre", "institute",
             "committee", "party", "union", "states", "nations", "republic", "federation", "times", "news",
             "post", "journal", "asia", "asian", "east", "west", "north", "south", "central", "cooperation",
             "corporation", "group", "agency", "army", "navy", "force", "office", "house", "court", "city"}
_AFTER_ROLE = re.compile(rf"\b(?:{'|'.join(ROLES)})\b[^.;:!?]*,\s*$")     # "the head of X's forces, <name>"
_PLACE_BEFORE = {"in", "to", "from", "at", "into", "across", "via", "near", "of", "visit", "visited"}


def _strip_possessive(word: str) -> str:
    return re.sub(r"[’']s?$", "", word)


def names(text: str) -> list[tuple[str, str]]:
    """(name, kind) for each run of capitalised words. kind is "person" (after a title or a
    role such as "the head of ...", or before "said"), "place" (after "in", "to", "from"...),
    "name" (two or more words, none of them an organisation word) or "" (unknown).
    Titles and sentence-opening function words are trimmed off the run."""
    found = []
    for m in _RUN.finditer(text):
        words = [_strip_possessive(w) for w in m.group().split()]
        titled = [i for i, w in enumerate(words) if w.lower().rstrip(".") in TITLES]
        if titled and titled[-1] < len(words) - 1:
            words = words[titled[-1] + 1:]
        while words and words[0].lower() in STOP:
            words.pop(0)
        if not words or (len(words) == 1 and len(words[0]) < 2) or words[-1].lower() in TITLES:
            continue
        before = text[max(0, m.start() - 60):m.start()].lower()
        prev = (before.split() or [""])[-1].strip(",;:")
        after = text[m.end():m.end() + 12].lower()
        if titled or prev in TITLES or _AFTER_ROLE.search(before) \
                or re.match(r"[’']?s?,?\s*(said|says|told|added|explained)\b", after):
            kind = "person"
        elif prev in _PLACE_BEFORE or re.search(r"(stan|ia|land)$", words[-1]):
            kind = "place"
        elif len(words) > 1 and not any(w.lower() in ORG_WORDS for w in words):
            kind = "name"
        else:
            kind = ""
        found.append((" ".join(words), kind))
    return found


def _turn(t) -> tuple[str, str]:
    """(question, answer text) of one turn, cut to MAX_TURN_CHARS; ("", "") for anything else."""
    if isinstance(t, str):
        t = (t,)
    if not isinstance(t, (list, tuple)) or not all(isinstance(x, str) for x in t[:2]):
        return "", ""
    q, a = (list(t[:2]) + [""])[:2]
    return q[:MAX_TURN_CHARS], a[:MAX_TURN_CHARS]


def _kinds(question: str, answer: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """For one turn: the kinds each name (keyed by its last word) was seen as, and its first surface form."""
    kinds: dict[str, set[str]] = {}
    surface: dict[str, str] = {}
    for source in (question, answer):
        for name, kind in names(source):
            key = name.split()[-1].lower()
            kinds.setdefault(key, set()).add(kind)
            surface.setdefault(key, name)
    return kinds, surface


def _people(question: str, answer: str) -> list[str]:
    """People named in one turn, the question's first; surnames for people with a cue."""
    kinds, surface = _kinds(question, answer)
    in_question = [n.split()[-1].lower() for n, _ in names(question)]
    order = list(dict.fromkeys(in_question + list(surface)))
    rank = {k: 0 if "person" in kinds[k] else 1 if "name" in kinds[k] and "place" not in kinds[k]
            else 2 if k in in_question and kinds[k] <= {"", "name"} else 3 for k in order}
    people = sorted((k for k in order if rank[k] < 3), key=lambda k: rank[k])
    return [surface[k].split()[-1] if rank[k] < 2 else surface[k] for k in people]


def _things(question: str, answer: str) -> list[str]:
    """What "it" or "they" can stand for in an earlier question: a possessive phrase
    ("Putin's visit"), else the named things, places and groups that are not people."""
    question = _CONTEXT.sub("", question)
    owned = [f"{m.group(1)}'s {m.group(2)}" for m in _OWNED.finditer(question) if m.group(2) not in STOP]
    kinds, _ = _kinds(question, answer)
    named = [n for n, _ in names(question) if not {"person", "name"} & kinds.get(n.split()[-1].lower(), set())]
    return list(dict.fromkeys(owned + named))


def topic(question: str) -> str:
    """What an earlier question was about: the question without its question words."""
    q = _CONTEXT.sub("", question).strip().rstrip("?!. ").strip()
    q = _LEAD.sub("", q, count=1).strip()
    words = q.split()[:12]
    if len(words) > 1 and words[-1].lower() in _LIGHT_VERBS:
        words.pop()
    return " ".join(words)


def _replace(question: str, table: dict[str, str], name: str) -> str:
    def sub(m: re.Match) -> str:
        word = m.group()
        if word.lower() == "her":        # object ("met her") or possessive ("her visit")
            nxt = question[m.end():].split()
            possessive = bool(nxt) and nxt[0].lower().strip("?.,!") not in STOP | {""}
            return name + "'s" if possessive else name
        return table[word.lower()].format(name)
    return re.sub(rf"\b(?:{'|'.join(table)})\b", sub, question, flags=re.I)


def _first_pronoun(question: str, table: dict[str, str]) -> int | None:
    m = re.search(rf"\b(?:{'|'.join(table)})\b", question, re.I)
    return m.start() if m else None


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The question to search for: `question` rewritten against `history`, the earlier turns
    (oldest first) as questions or (question, answer text) pairs; unchanged when standalone."""
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_FOLLOWUP_CHARS:
        return question
    turns = [t for t in map(_turn, list(history or ())[-MAX_TURNS:]) if t[0].strip()]
    if not turns:
        return question
    q = question.strip()
    elliptical = bool(_OPENER.match(q) or _ABOUT.match(q))
    q = _OPENER.sub("", q, count=1)
    q = q[:1].upper() + q[1:]
    own = [n for n, kind in names(q)]
    resolved = False
    for table in (_PERSON, _GROUP, _THING):
        at = _first_pronoun(q, table)
        if at is None or (table is _THING and _DUMMY_IT.search(q)):
            continue
        if any(q.find(n) < at for n in own):
            continue                      # the question names what its pronoun stands for
        for earlier, answer in reversed(turns):
            if table is _PERSON:
                found = _people(earlier, answer)
                name = found[0] if found else None
            else:
                found = _things(earlier, answer)
                name = " and ".join(found[:2]) if table is _GROUP else (found[0] if found else None)
            if name:
                q = _replace(q, table, name)
                resolved = True
                break
    needs_topic = elliptical or (not resolved and not own and (
        _DEMONSTRATIVE.search(q) or any(_first_pronoun(q, t) is not None for t in (_PERSON, _GROUP, _THING))))
    about = next((topic(e) for e, _ in reversed(turns) if topic(e)), "") if needs_topic else ""
    if about and about.lower() not in q.lower():
        q = f"{q.rstrip()} (context: {about})"
    return q if resolved or about else question
