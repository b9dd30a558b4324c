"""Follow-up questions ("and when did he arrive?") rewritten to stand alone for retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .chat_model import ChatModel
from .citations import MARKER
from .claims import content_words
from .language import detect_language
from .prompts import load_prompt

Turn = tuple[str, str]  # (question, answer)

# Words that point back into the conversation. A question without them (and not opening with
# "and ...") stands alone and is searched as it is: rewriting it only risks the model turning
# "how many" into "when", or the previous question's subject replacing a new one.
HISTORY_CHARS = 300  # of each earlier question and answer shown to the rewriter
SHORT_ANSWER = 100  # characters: a name or a date, not quoted passages
_EN_POINTERS = {"he", "she", "it", "they", "him", "her", "them", "his", "hers", "its", "their",
                "theirs", "this", "that", "these", "those", "there", "then", "former",
                "latter", "same", "also", "else", "other"}
_EN_OPENERS = ("and ", "but ", "so ", "what about", "how about", "and?", "also ")
_AR_POINTERS = {"هو", "هي", "هم", "هما", "هن", "ذلك", "تلك", "هذا", "هذه", "هؤلاء", "أولئك",
                "هناك", "هنالك", "حينها", "عندها", "آنذاك", "نفسه", "نفسها", "أيضا", "أيضاً",
                "ذاك", "الأخرى", "الآخر"}
# "And when ...?" is written as one word: و or ف glued to the question word.
_AR_OPENERS = re.compile(r"^(?:[وف](?:متى|ماذا|ما|من|كم|لماذا|أين|اين|كيف|هل|أي|اي|إلى)"
                         r"|ثم\s|لكن\s|ماذا عن)")
# "من هو ..." / "ما هي ...": the pronoun is a copula there ("who is ..."), not a pointer.
_AR_COPULA = re.compile(r"^(?:من|ما|ماذا)\s+(?:هو|هي|هم|هما|هن)\s")
_WORD = re.compile(r"[^\W\d_]+")
_SHORT_WORDS = 2  # "And Russia?", "متى؟": too short to stand alone
# What a question asks for: its first question word (Arabic ones may carry و/ف), and the noun
# a "how many" / "كم" question counts ("how many hours", "كم يوماً").
_ASKS = re.compile(r"\b(how (?:many|much|long|far|old)|when|who|whom|whose|what|where|why|"
                   r"which)\b|(?:^|\s)[وف]?(كم|بكم|متى|من|ماذا|ما|أين|اين|كيف|لماذا|هل|أي|اي)"
                   r"(?=\s|[?؟]|$)", re.IGNORECASE)
_COUNTED = re.compile(r"\s*[^\s?؟!.,،]+")
# Question words that ask about the noun after them ("which city", "أي دولة", "how many hours"),
# and a preposition before one ("In which city", "في أي دولة"), both kept with it.
_WITH_NOUN = {"which", "how many", "how much", "كم", "بكم", "أي", "اي"}
_PREPOSITION = re.compile(r"(?:^|\s)((?:in|at|on|from|to|for|by|with|of|في|من|إلى|الى|على|عن|"
                          r"مع)\s+)$", re.IGNORECASE)
# Question words that ask for the same thing.
_SAME_ASK = {"how many": "كم", "how much": "كم", "how long": "كم", "how far": "كم",
             "how old": "كم", "بكم": "كم", "when": "متى", "who": "من", "whom": "من",
             "whose": "من", "what": "ما", "which": "ما", "ماذا": "ما", "أي": "ما", "اي": "ما",
             "where": "أين", "اين": "أين", "why": "لماذا"}


def needs_context(question: str, language: str) -> bool:
    """Whether `question` leans on the conversation (a pronoun, "and ...", a fragment)."""
    text = question.strip().lower()
    words = _WORD.findall(text)
    if len(words) <= _SHORT_WORDS:
        return True
    if language == "ar":
        pointers = set(words) & _AR_POINTERS and not _AR_COPULA.match(text)
        return bool(_AR_OPENERS.match(text) or pointers)
    return text.startswith(_EN_OPENERS) or bool(set(words) & _EN_POINTERS)


class FollowUpRewriter:
    """Asks the model to rewrite the last question of a conversation as a standalone one."""

    def __init__(self, model: ChatModel, prompts_dir: Path, max_tokens: int = 60) -> None:
        self.model = model
        self.prompts_dir = prompts_dir
        self.max_tokens = max_tokens  # a question, not an answer

    def rewrite(self, question: str, history: Sequence[Turn], language: str) -> str:
        recent = list(history)[-2:]
        # Markers copied from earlier answers would end up in the search query.
        # Cut both sides: a pasted 20,000-character "question" in the history overflowed the
        # model's context window ("Requested tokens (25274) exceed context window").
        convo = "\n".join(f"Q: {q[:HISTORY_CHARS]}\nA: {MARKER.sub('', a)[:HISTORY_CHARS]}"
                          for q, a in recent)
        messages = [{"role": "system",
                     "content": load_prompt(self.prompts_dir, "condense", language)},
                    {"role": "user", "content": f"{convo}\nQ: {question}"}]
        lines = self.model.complete(messages, max_tokens=self.max_tokens).strip().splitlines()
        candidate = MARKER.sub("", lines[0]).strip() if lines else ""
        candidate = candidate.removeprefix("Q:").strip()
        # The small model sometimes answers instead of rewriting, from its own memory, or
        # switches language: then the previous question supplies the missing subject.
        # Or asks for something else: "وكم يوماً تستغرق زيارته؟" (how many days) came back as
        # "متى استغرق ... زيارته؟" (when): the question's own question word is put back.
        if len(re.findall(r"[?؟]", candidate)) == 1:  # one question, not two
            candidate = _asking_as(question, candidate)
        if (not candidate or detect_language(candidate) != language or len(candidate) > 300
                or not candidate.endswith(("?", "؟")) or asks(candidate) != asks(question)
                or len(re.findall(r"[?؟]", candidate)) != 1 or not _keeps(question, candidate)):
            return f"{question} ({_subject(recent[-1])})"
        return candidate


def _asking_as(question: str, rewrite: str) -> str:
    """`rewrite` with its question word replaced by the question's ("متى استغرق بلينكن
    زيارته؟" -> "كم يوماً استغرق بلينكن زيارته؟") when the two ask for different things."""
    wanted, found = _ASKS.search(question), _ASKS.search(rewrite)
    if not wanted or not found or asks(question) == asks(rewrite):
        return rewrite
    word = wanted.group(1) or wanted.group(2)
    phrase = word
    if word.lower() in _WITH_NOUN and (noun := _COUNTED.match(question, wanted.end())):
        phrase += noun.group()
    if before := _PREPOSITION.search(question[:wanted.start(1 if wanted.group(1) else 2)]):
        phrase = before.group(1).lower() + phrase
    if found.start(1 if found.group(1) else 2) == 0:
        phrase = phrase[0].upper() + phrase[1:]
    span = found.span(1 if found.group(1) else 2)
    return rewrite[:span[0]] + phrase + rewrite[span[1]:]


def _subject(turn: Turn) -> str:
    """What the previous turn was about, to stand beside a question the model could not
    rewrite: its answer when short ("سيرغي شويغو" names whom "he" is), else its question.
    Not the question first: the model then answered both ("من هو وزير الدفاع …؟ وماذا اقترح
    على كيم جونغ أون؟" got two copied sentences about other things)."""
    asked, answer = turn
    answer = MARKER.sub("", answer).strip(" .")
    return answer if 0 < len(answer) <= SHORT_ANSWER else asked[:HISTORY_CHARS]


def _keeps(question: str, rewrite: str) -> bool:
    """Whether the rewrite keeps at least half of the question's own words: a rewrite that
    is the previous question again ("من هو وزير الدفاع الروسي …؟" for "وماذا اقترح على كيم
    جونغ أون؟") asks something else."""
    own = content_words(question)
    return len(own & content_words(rewrite)) * 2 >= len(own)


def asks(question: str) -> str:
    """The question word that says what `question` asks for ("كم", "when"); "" if none."""
    match = _ASKS.search(question)
    word = (match.group(1) or match.group(2)).lower() if match else ""
    return _SAME_ASK.get(word, word)
