"""Every label and message the web app shows, in English and Arabic.

`TEXT[lang][key]` is a plain string; some take `str.format` fields, filled in by `t()`.
Keep both dictionaries with the same keys (tests/test_ui_text.py checks it).
"""

from __future__ import annotations

LANGUAGES = ("en", "ar")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "page_title": "News assistant",
        "app_title": "Ask the news articles",
        "app_subtitle": "A private assistant that answers in Arabic or English from the "
                        "indexed articles only, and shows where each answer comes from. "
                        "Nothing leaves this computer.",
        "language_label": "Interface language",
        # tabs
        "tab_chat": "Chat",
        "tab_search": "Search passages",
        "tab_documents": "Documents",
        # chat
        "question_label": "Your question",
        "question_placeholder": "Ask in Arabic or English, e.g. Who is John Kirby?",
        "send": "Ask",
        "new_chat": "New chat",
        "examples": "Try an example:",
        "chat_empty": "Ask a question about the articles. Answers cite their sources as [1], "
                      "[2] … — click a number to see the passage it comes from.",
        "you": "You",
        "assistant": "Assistant",
        "thinking": "Searching the articles and writing the answer…",
        "waiting_model": "Loading the language model ({seconds:.0f} s)… the answer starts "
                         "as soon as it is ready.",
        "refused_note": "No answer was found in the indexed articles.",
        "checking_note": "Draft: checking it against the sources…",
        "unverified_note": "No answer could be verified: the passages are quoted from the "
                           "articles, nothing is the model's.",
        "unsupported_note": "Careful: the cited passages do not clearly support this answer.",
        "stopped_note": "(stopped)",
        "stop": "Stop",
        "stopped_by_user": "Stopped before the end: this answer was not checked against the "
                           "sources.",
        "busy_placeholder": "An answer is being written… type your next question; "
                            "it is sent when this one ends, or press Stop",
        "busy_refused": "An answer is still being written. Your question stays in the box: "
                        "ask again when it ends, or press Stop first.",
        "rewritten_as": "Searched as: {question}",
        # sources
        "sources_title": "Sources",
        "sources_empty": "The passages cited by the latest answer will appear here.",
        "sources_none": "The latest answer cites no passage.",
        "source_weak": "weak support",
        "open_article": "Open the full article at this passage",
        "article_missing": "This article is no longer in the index.",
        "no_date": "no date",
        "no_source": "unknown source",
        # search
        "search_label": "Search query",
        "search_placeholder": "Words or a question; no answer is generated, only passages",
        "search_button": "Search",
        "search_k": "Passages to show",
        "search_intro": "Shows the best-matching passages without the language model "
                        "(works while it is still loading).",
        "search_none": "No relevant passage: nothing in the indexed articles is close enough "
                       "to this query. Try other words, or names as the articles spell them.",
        "search_score": "similarity {score:.2f}",
        "search_word_match": "word match",
        # documents
        "upload_label": "Drop files here or click to upload",
        "upload_help": "Up to {mb} MB per file. Types: {types}. Files are added to the "
                       "index right away; a file with the same name replaces the old one.",
        "docs_title": "Indexed documents",
        "docs_count": "{documents} documents from {files} files, {chunks} passages",
        "docs_empty": "The index is empty. Upload articles above to start.",
        "docs_loading": "Loading the index… (press Refresh in a moment)",
        "col_title": "Title",
        "col_date": "Date",
        "col_source": "Source",
        "col_kind": "Kind",
        "col_file": "File",
        "col_chunks": "Passages",
        "kind_article": "article",
        "kind_teaser": "teaser",
        "remove_label": "Files to remove",
        "remove_button": "Remove from the index",
        "remove_none": "Choose at least one file to remove.",
        "removed": "Removed: {names}",
        "remove_confirm": "Remove {names} from the index? This cannot be undone.",
        "remove_yes": "Yes, remove",
        "remove_cancel": "Cancel",
        "remove_cancelled": "Nothing was removed.",
        "file_counts": "{name} ({documents} documents, {chunks} passages)",
        "refresh": "Refresh",
        "stage_reading files": "Reading files",
        "stage_embedding chunks": "Indexing passages",
        "stage_copying": "Receiving files",
        "stage_waiting for the index": "Waiting for another import to finish (seconds)",
        "ingest_added": "added; passages: {chunks}",
        "ingest_updated": "updated; passages: {chunks}",
        "ingest_unchanged": "already indexed, unchanged",
        "upload_renamed": " (another upload named {name} is indexed with other content: both "
                          "are kept)",
        "ingest_rejected": "not added: {reason}",
        "ingest_done": "Done in {seconds:.1f} s.",
        "upload_too_big": "not added: the file is {size:.1f} MB, the limit is {mb} MB per file",
        "upload_bad_type": "not added: {suffix} files are not supported (use {types})",
        "upload_nothing": "No file received.",
        # status
        "status_llm": "Language model",
        "status_embedder": "Embeddings",
        "status_index": "Index",
        "status_loading": "loading…",
        "status_ready": "ready",
        "status_failed": "failed",
        "status_index_size": "{documents} articles, {chunks} passages",
        "status_index_missing": "empty",
        "status_timings": "Last answer: retrieval {retrieval}, first words {first_token}, "
                          "total {total}",
        # errors
        "error_empty": "Please type a question first.",
        "error_empty_query": "Please type something to search for.",
        "error_too_long": "The question is too long ({n:,} characters; the limit is "
                          "{limit:,}). Please ask about one thing at a time.",
        "error_generic": "Sorry, something went wrong. Please try again; if it keeps "
                         "happening, see the server log.",
        "error_prefix": "Sorry, that did not work: {message}",
        "error_models": "The models could not be loaded: {message}",
    },
    "ar": {
        "page_title": "مساعد الأخبار",
        "app_title": "اسأل المقالات الإخبارية",
        "app_subtitle": "مساعد خاص يجيب بالعربية أو الإنجليزية من المقالات المفهرسة فقط، "
                        "ويبيّن مصدر كل إجابة. لا يغادر شيء هذا الحاسوب.",
        "language_label": "لغة الواجهة",
        "tab_chat": "المحادثة",
        "tab_search": "البحث في المقاطع",
        "tab_documents": "المستندات",
        "question_label": "سؤالك",
        "question_placeholder": "اسأل بالعربية أو الإنجليزية، مثلاً: من هو جون كيربي؟",
        "send": "اسأل",
        "new_chat": "محادثة جديدة",
        "examples": "جرّب مثالاً:",
        "chat_empty": "اطرح سؤالاً عن المقالات. تستشهد الإجابات بمصادرها هكذا [1]، [2] … — "
                      "انقر على الرقم لترى المقطع الذي جاءت منه.",
        "you": "أنت",
        "assistant": "المساعد",
        "thinking": "أبحث في المقالات وأكتب الإجابة…",
        "waiting_model": "جارٍ تحميل النموذج اللغوي ({seconds:.0f} ث)… تبدأ الإجابة فور "
                         "جاهزيته.",
        "refused_note": "لم يُعثر على إجابة في المقالات المفهرسة.",
        "checking_note": "مسودة: أتحقق منها في المصادر…",
        "unverified_note": "تعذّر التحقق من إجابة: المقاطع منقولة من المقالات كما هي، وليس فيها "
                           "شيء من كتابة النموذج.",
        "unsupported_note": "تنبيه: المقاطع المستشهد بها لا تدعم هذه الإجابة بوضوح.",
        "stopped_note": "(توقف)",
        "stop": "أوقف",
        "stopped_by_user": "أُوقفت قبل نهايتها: لم يُتحقق من هذه الإجابة في المصادر.",
        "busy_placeholder": "تُكتب الآن إجابة… اكتب سؤالك التالي واسأله حين تنتهي، أو اضغط «أوقف»",
        "busy_refused": "ما زالت الإجابة الحالية تُكتب. بقي سؤالك في المربع: اسأله حين تنتهي، "
                        "أو اضغط «أوقف» أولاً.",
        "rewritten_as": "بُحث عنه بصيغة: {question}",
        "sources_title": "المصادر",
        "sources_empty": "ستظهر هنا المقاطع التي تستشهد بها آخر إجابة.",
        "sources_none": "آخر إجابة لا تستشهد بأي مقطع.",
        "source_weak": "دعم ضعيف",
        "open_article": "افتح المقال كاملاً عند هذا المقطع",
        "article_missing": "لم يعد هذا المقال في الفهرس.",
        "no_date": "بلا تاريخ",
        "no_source": "مصدر غير معروف",
        "search_label": "عبارة البحث",
        "search_placeholder": "كلمات أو سؤال؛ تظهر المقاطع فقط دون توليد إجابة",
        "search_button": "ابحث",
        "search_k": "عدد المقاطع",
        "search_intro": "يعرض أنسب المقاطع دون النموذج اللغوي (يعمل أثناء تحميله).",
        "search_none": "لا توجد مقاطع ذات صلة: لا شيء في المقالات المفهرسة قريب بما يكفي من "
                       "هذا البحث. جرّب كلمات أخرى، أو الأسماء كما تكتبها المقالات.",
        "search_score": "التشابه {score:.2f}",
        "search_word_match": "تطابق كلمات",
        "upload_label": "أفلت الملفات هنا أو انقر للرفع",
        "upload_help": "حتى {mb} ميغابايت لكل ملف. الأنواع: {types}. تُضاف الملفات إلى الفهرس "
                       "فوراً؛ والملف الذي يحمل الاسم نفسه يحل محل القديم.",
        "docs_title": "المستندات المفهرسة",
        "docs_count": "{documents} مستنداً من {files} ملفات، {chunks} مقطعاً",
        "docs_empty": "الفهرس فارغ. ارفع مقالات أعلاه للبدء.",
        "docs_loading": "جارٍ تحميل الفهرس… (اضغط «تحديث» بعد قليل)",
        "col_title": "العنوان",
        "col_date": "التاريخ",
        "col_source": "المصدر",
        "col_kind": "النوع",
        "col_file": "الملف",
        "col_chunks": "المقاطع",
        "kind_article": "مقال",
        "kind_teaser": "مقتطف",
        "remove_label": "الملفات المراد حذفها",
        "remove_button": "احذف من الفهرس",
        "remove_none": "اختر ملفاً واحداً على الأقل لحذفه.",
        "removed": "حُذف: {names}",
        "remove_confirm": "أتحذف {names} من الفهرس؟ لا يمكن التراجع عن ذلك.",
        "remove_yes": "نعم، احذف",
        "remove_cancel": "إلغاء",
        "remove_cancelled": "لم يُحذف شيء.",
        "file_counts": "{name} ({documents} مستندات، {chunks} مقاطع)",
        "refresh": "تحديث",
        "stage_reading files": "قراءة الملفات",
        "stage_embedding chunks": "فهرسة المقاطع",
        "stage_copying": "استلام الملفات",
        "stage_waiting for the index": "بانتظار انتهاء استيراد آخر (بالثواني)",
        "ingest_added": "أضيف؛ المقاطع: {chunks}",
        "ingest_updated": "حُدّث؛ المقاطع: {chunks}",
        "ingest_unchanged": "مفهرس من قبل، دون تغيير",
        "upload_renamed": " (ملف مرفوع آخر باسم {name} مفهرس بمحتوى مختلف: احتُفظ بالاثنين)",
        "ingest_rejected": "لم يُضف: {reason}",
        "ingest_done": "اكتمل في {seconds:.1f} ث.",
        "upload_too_big": "لم يُضف: حجم الملف {size:.1f} ميغابايت، والحد {mb} ميغابايت لكل ملف",
        "upload_bad_type": "لم يُضف: الملفات من نوع {suffix} غير مدعومة (استخدم {types})",
        "upload_nothing": "لم يصل أي ملف.",
        "status_llm": "النموذج اللغوي",
        "status_embedder": "التضمينات",
        "status_index": "الفهرس",
        "status_loading": "جارٍ التحميل…",
        "status_ready": "جاهز",
        "status_failed": "تعذّر",
        "status_index_size": "{documents} مقالاً، {chunks} مقطعاً",
        "status_index_missing": "فارغ",
        "status_timings": "آخر إجابة: الاسترجاع {retrieval}، أول الكلمات {first_token}، "
                          "المجموع {total}",
        "error_empty": "يُرجى كتابة سؤال أولاً.",
        "error_empty_query": "يُرجى كتابة ما تريد البحث عنه.",
        "error_too_long": "السؤال طويل جداً ({n:,} حرفاً؛ والحد {limit:,}). يُرجى السؤال عن "
                          "أمر واحد في كل مرة.",
        "error_generic": "عذراً، حدث خطأ ما. يُرجى المحاولة مرة أخرى؛ وإن تكرر فراجع سجل الخادم.",
        "error_prefix": "عذراً، تعذّر ذلك: {message}",
        "error_models": "تعذّر تحميل النماذج: {message}",
    },
}


# Gradio's own strings on the page, as it renders them in English, and what the Arabic
# interface shows instead (assets/app.js swaps them when the language changes).
GRADIO_STRINGS: dict[str, str] = {
    "Drop File Here": "أفلت الملف هنا",
    "- or -": "- أو -",
    "Click to Upload": "انقر للرفع",
    "Use via API": "الاستخدام عبر واجهة API",
    "Built with Gradio": "بُني باستخدام Gradio",
    "Settings": "الإعدادات",
    "Error": "خطأ",
    "Loading...": "جارٍ التحميل...",
    "Clear": "مسح",
    "Upload": "رفع",
}


def lang_of(value: str | None) -> str:
    """A supported UI language from a toggle value or a browser locale ("ar-EG" -> "ar")."""
    value = (value or "").strip().lower()
    return "ar" if value.startswith("ar") else "en"


def t(lang: str, key: str, **fields: object) -> str:
    """The text for `key` in `lang` (English if missing there, else the key), formatted."""
    table = TEXT.get(lang_of(lang), TEXT["en"])
    text = table.get(key) or TEXT["en"].get(key, key)
    return text.format(**fields) if fields else text
