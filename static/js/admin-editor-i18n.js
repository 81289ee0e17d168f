// The body editor's menus in the reader's language (editorial/widgets.py loads it).
//
// django-prose-editor passes its dialogs' words through Django's JavaScript
// catalogue (window.gettext, from the admin's jsi18n view, which the change form
// loads first), but writes its toolbar's tooltips (title, aria-label) and the
// block-type menu's entries ("Paragraph", "Heading 2") in English. This script
// puts those through the same window.gettext: the Chinese is in our catalogue,
// locale/zh_Hans/LC_MESSAGES/djangojs.po, and an English reader keeps the English.
// The package's files are used as shipped. A static file: the CSP allows no inline script.
(function () {
  "use strict";
  var translate = window.gettext || function (text) { return text; };
  var ATTRIBUTES = ["title", "aria-label"];
  var PARTS = ".prose-menubar, .prose-editor-dialog, .prose-menubar__picker";

  function translateAttributes(element) {
    ATTRIBUTES.forEach(function (name) {
      var value = element.getAttribute(name);
      if (value) {
        var translated = translate(value);
        if (translated !== value) {
          element.setAttribute(name, translated);
        }
      }
    });
  }

  function translateText(element) {
    // Leaves only (a menu entry's own text); never the icons' ligature names.
    if (element.children.length || element.closest(".material-icons")) {
      return;
    }
    var text = element.textContent;
    var translated = text && translate(text.trim());
    if (translated && translated !== text.trim()) {
      if (element.tagName === "OPTION" && !element.hasAttribute("value")) {
        // An option without a value submits its text: keep the English the package compares
        // ("Yes" === withHeaderRow), show the translation.
        element.setAttribute("value", text.trim());
      }
      element.textContent = translated;
    }
  }

  function translateAll(part) {
    translateAttributes(part);
    translateText(part);
    part.querySelectorAll("*").forEach(function (element) {
      translateAttributes(element);
      translateText(element);
    });
  }

  function translateWithin(root) {
    if (root.closest(PARTS)) {
      translateAll(root); // a menu or dialog, or something added inside one
    } else {
      root.querySelectorAll(PARTS).forEach(translateAll);
    }
  }

  function start() {
    translateWithin(document.body);
    // Editors start after this script, and dialogs open later: translate what they add.
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        record.addedNodes.forEach(function (node) {
          if (node.nodeType === Node.ELEMENT_NODE && !node.closest(".ProseMirror[contenteditable=true]")) {
            translateWithin(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
