"""Which questions lean on the conversation: only those are rewritten before retrieval."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.followup import FollowUpRewriter, asks, needs_context
from rag.language import detect_language

FOLLOW_UPS = [  # the seed set's follow-ups, and fragments
    ("وماذا اقترح على كيم جونغ أون؟", "ar"), ("وكم يوماً تستغرق زيارته؟", "ar"),
    ("ولماذا سيكون حاسماً؟", "ar"), ("ومتى وصل؟", "ar"), ("متى وصل إلى هناك؟", "ar"),
    ("هل زار هو موسكو؟", "ar"), ("متى؟", "ar"), ("ثم ماذا حدث بعد الزيارة؟", "ar"),
    ("In which city will they probably meet?", "en"),
    ("How many hours did it stay at Pyongyang airport?", "en"),
    ("What role did he say China has to play?", "en"), ("And when?", "en"),
    ("What about Russia?", "en"), ("Why?", "en"), ("And what did Kim say next?", "en"),
]
STANDALONE = [  # asked in the browser after another question, and hijacked by the rewrite
    ("من هو جون كيربي؟", "ar"), ("كم كياناً فرضت عليه الولايات المتحدة عقوبات؟", "ar"),
    ("متى سيلتقي كيم جونغ أون بوتين؟", "ar"), ("ما هي عاصمة روسيا؟", "ar"),
    ("وزير الدفاع الروسي زار أي بلد؟", "ar"), ("Who is John Kirby?", "en"),
    ("When did Kim arrive in Vladivostok?", "en"),
    ("What did Shoigu try to persuade Pyongyang to sell to Russia?", "en"),
]


@pytest.mark.parametrize(("question", "language"), FOLLOW_UPS)
def test_a_question_that_points_back_needs_the_conversation(question, language):
    assert needs_context(question, language)


@pytest.mark.parametrize(("question", "language"), STANDALONE)
def test_a_question_that_stands_alone_is_used_as_it_is(question, language):
    assert not needs_context(question, language)


class Rewrites:
    """Stands in for the model: rewrites any follow-up as `text`."""

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, messages, max_tokens, **options) -> str:
        return self.text


HISTORY = [("من هو وزير الخارجية الأمريكي الذي زار سيول؟", "أنتوني بلينكن [1]")]


@pytest.mark.parametrize(("rewritten", "expected"), [
    ("كم يوماً تستغرق زيارة بلينكن إلى سيول؟", "كم يوماً تستغرق زيارة بلينكن إلى سيول؟"),
    # The seed set's ar-follow-blinken: "how many days" came back as "when"
    ("متى استغرق وزير الخارجية الأمريكي أنتوني بلينكن زيارته إلى سيول؟",
     "كم يوماً استغرق وزير الخارجية الأمريكي أنتوني بلينكن زيارته إلى سيول؟"),
    # Two questions (the previous one and this one): the question is asked beside the
    # previous answer instead
    (f"{HISTORY[0][0]} وكم يوماً تستغرق زيارته؟", "وكم يوماً تستغرق زيارته؟ (أنتوني بلينكن)"),
    ("من هو بلينكن؟ كم يوماً تستغرق زيارته؟", "وكم يوماً تستغرق زيارته؟ (أنتوني بلينكن)"),
])
def test_a_rewrite_asks_for_what_the_question_asks(rewritten, expected):
    rewriter = FollowUpRewriter(Rewrites(rewritten), Settings().prompts_dir)
    assert rewriter.rewrite("وكم يوماً تستغرق زيارته؟", HISTORY, "ar") == expected


@pytest.mark.parametrize(("question", "word"), [
    ("وكم يوماً تستغرق زيارته؟", "كم"), ("ومتى وصل؟", "متى"), ("من هو جون كيربي؟", "من"),
    ("وماذا اقترح؟", "ما"), ("In which city?", "ما"),
    ("How many hours did it stay?", "كم"), ("How long did it stay?", "كم"), ("And when?", "متى"),
    ("Kim, then?", ""),
])
def test_what_a_question_asks_for(question, word):
    # Question words that ask for the same thing are one
    assert asks(question) == word


def test_an_english_rewrite_gets_the_question_s_question_word_back():
    rewriter = FollowUpRewriter(Rewrites("When did the Il-62 stay at Pyongyang airport?"),
                                Settings().prompts_dir)
    history = [("What plane flew to Pyongyang on July 31?", "An Ilyushin Il-62 [1]")]
    assert rewriter.rewrite("How many hours did it stay at Pyongyang airport?", history, "en") \
        == "How many hours did the Il-62 stay at Pyongyang airport?"


@pytest.mark.parametrize(("question", "history", "rewritten", "expected"), [
    # The seed set's en-follow-city: "Where" for "In which city" (the noun and preposition go
    # back with the question word).
    ("In which city will they probably meet?",
     [("Who is Kim Jong Un expected to meet in Russia?", "President Vladimir Putin [1].")],
     "Where will Kim Jong Un and President Vladimir Putin likely meet?",
     "In which city will Kim Jong Un and President Vladimir Putin likely meet?"),
    ("في أي دولة ستتوقف جولته بعد اليابان؟", HISTORY,
     "متى ستتوقف جولة أنتوني بلينكن بعد اليابان؟",
     "في أي دولة ستتوقف جولة أنتوني بلينكن بعد اليابان؟"),
    # The previous question again (ar-follow-shoigu, en-follow-park): it keeps none of the
    # question's own words, so the conversation is searched instead.
    ("وماذا اقترح على كيم جونغ أون؟",
     [("من هو وزير الدفاع الروسي الذي زار كوريا الشمالية في يوليو؟", "سيرغي شويغو [1].")],
     "من هو وزير الدفاع الروسي الذي زار كوريا الشمالية في يوليو؟",
     "وماذا اقترح على كيم جونغ أون؟ (سيرغي شويغو)"),
    ("What role did he say China has to play?",
     [("Which South Korean minister did Blinken meet in Seoul?", "Park Jin [1].")],
     "Which South Korean minister did Blinken meet in Seoul?",
     "What role did he say China has to play? (Park Jin)"),
])
def test_a_rewrite_keeps_what_the_question_asks_about(question, history, rewritten, expected):
    rewriter = FollowUpRewriter(Rewrites(rewritten), Settings().prompts_dir)
    assert rewriter.rewrite(question, history, detect_language(question)) == expected
