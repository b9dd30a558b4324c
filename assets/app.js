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

  // Keep the conversation scrolled to the newest text unless the reader scrolled up.
  var stick = true;
  document.addEventListener("scroll", function (event) {
    var log = event.target;
    if (log && log.id === "chatlog") {
      stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }
  }, true);

  var lastLength = -1;
  function followChat() {
    var log = document.getElementById("chatlog");
    if (!log) return;
    var length = log.textContent.length;
    if (length !== lastLength) {
      lastLength = length;
      if (stick) log.scrollTop = log.scrollHeight;
    }
  }

  // The interface language: direction of the page chrome (the toggle sets <html lang>).
  window.ragSetLanguage = function (lang) {
    var rtl = lang === "ar";
    document.documentElement.setAttribute("lang", rtl ? "ar" : "en");
    var app = document.querySelector(".gradio-container");
    if (app) app.setAttribute("dir", rtl ? "rtl" : "ltr");
    return lang;
  };

  function start() {
    fixDirections(document);
    new MutationObserver(function () {
      fixDirections(document);
      followChat();
    }).observe(document.body, { childList: true, subtree: true, characterData: true,
                                attributes: true, attributeFilter: ["dir"] });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
