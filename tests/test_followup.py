"""Which questions lean on the conversation: only those are rewritten before retrieval."""

from __future__ import annotations

import pytest

from rag.followup import needs_context

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
