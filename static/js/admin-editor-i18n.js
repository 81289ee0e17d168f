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

  // The package's English words that pass through gettext (its dialogs' own, and the menus'
  // that this script translates), marked for `make messages`: makemessages -d djangojs finds
  // them by gettext_noop and keeps their Chinese in djangojs.po. A list only, never read.
  var gettext_noop = window.gettext_noop || function (text) { return text; };
  var PACKAGE_WORDS = [
    gettext_noop("Add caption"), gettext_noop("Alternative Text"), gettext_noop("Browse..."),
    gettext_noop("Bullets"), gettext_noop("Cancel"), gettext_noop("Caption"), gettext_noop("Columns"),
    gettext_noop("Decimal numbers"), gettext_noop("Edit Figure"), gettext_noop("Edit HTML"),
    gettext_noop("Edit Image"), gettext_noop("Edit Link"), gettext_noop("Image URL"),
    gettext_noop("Include header row"), gettext_noop("Insert Figure"), gettext_noop("Insert Table"),
    gettext_noop("Insert"), gettext_noop("List properties"), gettext_noop("List type"),
    gettext_noop("Lowercase Roman numerals"), gettext_noop("Lowercase letters"),
    gettext_noop("Open in new window"), gettext_noop("Prettify"), gettext_noop("Remove caption"),
    gettext_noop("Rows"), gettext_noop("Start at"), gettext_noop("Table Properties"),
    gettext_noop("The HTML contents of the editor. Note that the allowed HTML is restricted by the editor schema."),
    gettext_noop("Title"), gettext_noop("Toggle fullscreen"), gettext_noop("URL"), gettext_noop("Update"),
    gettext_noop("Uppercase Roman numerals"), gettext_noop("Uppercase letters"), gettext_noop("Add column"),
    gettext_noop("Add row"), gettext_noop("Delete column"), gettext_noop("Delete row"),
    gettext_noop("Insert table"), gettext_noop("Merge cells"), gettext_noop("Split cell"),
    gettext_noop("Toggle header cell"), gettext_noop("blockquote"), gettext_noop("bold"),
    gettext_noop("figure"), gettext_noop("horizontal rule"), gettext_noop("insert link"),
    gettext_noop("italic"), gettext_noop("ordered list"), gettext_noop("paragraph"),
    gettext_noop("remove link"), gettext_noop("strike"), gettext_noop("subscript"),
    gettext_noop("superscript"), gettext_noop("underline"), gettext_noop("unordered list"),
    gettext_noop("undo"), gettext_noop("redo"), gettext_noop("edit HTML"), gettext_noop("Code"),
    gettext_noop("Code block"), gettext_noop("Paragraph"), gettext_noop("Reset all classes"),
    gettext_noop("Styles"), gettext_noop("Heading 1"), gettext_noop("Heading 2"), gettext_noop("Heading 3"),
    gettext_noop("Heading 4"), gettext_noop("Heading 5"), gettext_noop("Heading 6"),
    gettext_noop("heading 1"), gettext_noop("heading 2"), gettext_noop("heading 3"),
    gettext_noop("heading 4"), gettext_noop("heading 5"), gettext_noop("heading 6"),
    gettext_noop("Delete table"), gettext_noop("Block style"), gettext_noop("Yes"), gettext_noop("No")
  ];

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
