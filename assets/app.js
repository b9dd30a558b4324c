// Small page behaviours the server-rendered HTML relies on. Loaded inline in <head>: no network.
(function () {
  "use strict";

  // Inputs take the direction of what is typed in them (Arabic right-to-left, English
  // left-to-right). Gradio renders its text boxes with dir="ltr", so that is overridden.
  var TEXT_INPUTS = "textarea, input[type=text], input:not([type])";
  function fixDirections(root) {
    root.querySelectorAll(TEXT_INPUTS).forEach(function (el) {
      if (el.getAttribute("dir") !== "auto") el.setAttribute("dir", "auto");
    });
  }

  // A citation marker [n] scrolls to its source entry and makes it flash.
  function jumpTo(id) {
    var target = document.getElementById(id);
    if (!target) return false;
    target.scrollIntoView({ behavior: "smooth", block: "nearest" });
    target.classList.remove("flash");
    void target.offsetWidth; // restart the animation
    target.classList.add("flash");
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.cite, a.jump");
    if (!link) return;
    var id = (link.getAttribute("href") || "").replace(/^#/, "");
    if (id && jumpTo(id)) event.preventDefault();
  });

  // Opening the full article scrolls it to the cited sentence.
  function showMark(details) {
    var mark = details.querySelector("mark.hl");
    var box = details.querySelector(".article-text");
    if (!mark || !box) return;
    var offset = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
    box.scrollTop += offset - box.clientHeight / 3;
    mark.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("toggle", function (event) {
    var d = event.target;
    if (d && d.tagName === "DETAILS" && d.open && d.classList.contains("article")) showMark(d);
  }, true);

  // Keep the conversation scrolled to the newest text unless the reader scrolled up. Only the
  // reader's own scrolling (wheel, touch, keys) counts: replacing the log's HTML with the
  // final answer also fires scroll events, and those left the last bubble cut off.
  var stick = true;
  function readerScrolled(event) {
    var log = event.target.closest && event.target.closest("#chatlog");
    if (!log) return;
    setTimeout(function () {
      stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }, 50);
  }
  ["wheel", "touchmove", "keydown"].forEach(function (name) {
    document.addEventListener(name, readerScrolled, { passive: true, capture: true });
  });

  var lastLength = -1, lastQuestions = 0;
  function followChat() {
    var log = document.getElementById("chatlog");
    if (!log) return;
    var questions = log.querySelectorAll(".msg.user").length;
    if (questions !== lastQuestions) {  // a new question: follow its answer again
      lastQuestions = questions;
      stick = true;
    }
    var length = log.textContent.length;
    if (length !== lastLength) {
      lastLength = length;
      if (stick) log.scrollTop = log.scrollHeight;
    }
  }

  // Gradio's own strings ("Drop File Here", "Use via API", ...) in the interface language:
  // window.RAG_GRADIO_AR (from rag/web/text.py) maps each English string to its Arabic.
  var language = "en";
  var swapped = new WeakMap();  // text node -> its English original
  function translateGradio(root) {
    var arabic = window.RAG_GRADIO_AR || {};
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement && node.parentElement.closest("#chatlog, #sources, .rag-panel")) {
        continue;  // the app's own HTML is already in the interface language
      }
      var text = node.nodeValue.trim();
      var original = swapped.get(node);
      if (language === "ar" && !original && arabic[text]) {
        swapped.set(node, node.nodeValue);
        node.nodeValue = node.nodeValue.replace(text, arabic[text]);
      } else if (language !== "ar" && original) {
        node.nodeValue = original;
        swapped.delete(node);
      }
    }
  }

  // The interface language: direction of the page chrome (the toggle sets <html lang>).
  window.ragSetLanguage = function (lang) {
    var rtl = lang === "ar";
    document.documentElement.setAttribute("lang", rtl ? "ar" : "en");
    var app = document.querySelector(".gradio-container");
    if (app) app.setAttribute("dir", rtl ? "rtl" : "ltr");
    language = rtl ? "ar" : "en";
    translateGradio(document.body);
    return lang;
  };

  function start() {
    fixDirections(document);
    new MutationObserver(function () {
      fixDirections(document);
      followChat();
      if (language === "ar") translateGradio(document.body);
    }).observe(document.body, { childList: true, subtree: true, characterData: true,
                                attributes: true, attributeFilter: ["dir"] });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
