// Names for the admin's form controls that Django and its widgets leave unnamed
// (templates/admin/base_site.html loads it on every admin page), so that screen
// readers, and axe-core's audit (tests/editorial/test_browser_admin_language.py),
// find a name for each:
// - the changelist's search box (its label is an icon only);
// - the two halves of a date-and-time field (日期 / 时间 beside them is plain text);
// - the cells of tabular inlines (bylines, categories): their column's heading,
//   and for "delete?" the row it deletes;
// - the autocomplete boxes (select2) and the body editor (ProseMirror), after the
//   field's own label.
// Names are taken from text the page already shows, in the page's language. Only
// controls without a name get one. A static file: the CSP allows no inline script.
(function () {
  "use strict";

  function clean(text) {
    return (text || "").replace(/\s+/g, " ").replace(/[:：?？]\s*$/, "").trim();
  }

  function named(element) {
    return element.getAttribute("aria-label") || element.getAttribute("aria-labelledby") ||
      (element.id && document.querySelector('label[for="' + CSS.escape(element.id) + '"]')) ||
      element.closest("label");
  }

  function name(element, text) {
    if (element && text && !named(element)) {
      element.setAttribute("aria-label", text);
    }
  }

  function rowLabel(element) {
    var row = element.closest(".form-row");
    var label = row && row.querySelector("label");
    return label ? clean(label.textContent) : "";
  }

  function fieldLabel(control) {
    // A control's label, or its column heading in a tabular inline.
    var label = control.id && document.querySelector('label[for="' + CSS.escape(control.id) + '"]');
    if (label && clean(label.textContent)) {
      return clean(label.textContent);
    }
    var cell = control.closest("td");
    var table = cell && cell.closest("table");
    if (!table) {
      return rowLabel(control);
    }
    var column = Array.prototype.indexOf.call(cell.parentElement.children, cell);
    var heading = table.querySelectorAll("thead tr th")[column];
    var text = heading ? clean(heading.textContent) : "";
    if (cell.classList.contains("delete")) {
      var original = cell.parentElement.querySelector("td.original p");
      text = text + (original ? " " + clean(original.textContent) : "");
    }
    return text;
  }

  function nameSearchBox(root) {
    var box = root.querySelector("#searchbar");
    if (box) {
      // Its <label> holds only the icon, which names nothing visible: the button's word names it.
      var button = box.form && box.form.querySelector("input[type=submit]");
      if (button && !box.getAttribute("aria-label")) {
        box.setAttribute("aria-label", button.value);
      }
      var icon = box.form && box.form.querySelector('label[for="searchbar"] img');
      if (icon) {
        icon.alt = ""; // the box has its own name; the icon says nothing more (its alt was English)
      }
    }
  }

  function nameDateTimeHalves(root) {
    root.querySelectorAll("p.datetime input").forEach(function (input) {
      var before = input.previousSibling;
      while (before && before.nodeType !== Node.TEXT_NODE) {
        before = before.previousSibling;
      }
      name(input, clean(rowLabel(input) + " " + (before ? clean(before.textContent) : "")));
    });
  }

  function nameInlineCells(root) {
    root.querySelectorAll(".tabular td input:not([type=hidden]), .tabular td select").forEach(function (control) {
      name(control, fieldLabel(control));
    });
  }

  function nameAutocompletes(root) {
    root.querySelectorAll("span.select2").forEach(function (container) {
      var select = container.previousElementSibling;
      if (!select || select.tagName !== "SELECT") {
        return;
      }
      var text = fieldLabel(select);
      container.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (part) {
        name(part, text);
      });
    });
  }

  function nameEditors(root) {
    root.querySelectorAll(".prose-editor").forEach(function (editor) {
      var textarea = editor.querySelector("textarea");
      var surface = editor.querySelector(".ProseMirror[contenteditable]");
      if (textarea && surface) {
        name(surface, fieldLabel(textarea));
      }
    });
  }

  function nameAll() {
    nameSearchBox(document);
    nameDateTimeHalves(document);
    nameInlineCells(document);
    nameAutocompletes(document);
    nameEditors(document);
  }

  function start() {
    nameAll();
    // Autocompletes and editors start after this script; inline rows are added later.
    var pending = false;
    new MutationObserver(function () {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(function () {
          pending = false;
          nameAll();
        });
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
