/* Local drafts of the article form: unsaved edits survive a reload or a crashed browser.
 *
 * While an editor types, the form's fields (title, the body editor's textarea, excerpt,
 * categories, tags, bylines …) are kept in localStorage under a key of the article and the
 * version the form was opened at ("add" forms: of the user). The next time the form opens,
 * a banner OFFERS the kept copy (restore / discard, with the time it was kept); nothing is
 * applied without the editor's click. A successful save deletes it: the page a save lands on
 * (the article list, or the form again) runs this script too and sees no error. Leaving the
 * page with unsaved changes asks first, unless the form is being submitted.
 *
 * A static file (the CSP allows no inline script); the texts come from the page
 * (templates/admin/articles/article/_safe_edit.html), so they are translated there.
 */
(function () {
  "use strict";

  var PREFIX = "newsportal:draft:";
  var SUBMITTED = "newsportal:draft-submitted";  // sessionStorage: the key of the draft being saved
  // Not the editor's words: the token, the version (the key has it), formset counters,
  // Django's hidden initial values, template rows, buttons' names.
  var SKIPPED = /(^csrfmiddlewaretoken$|^version$|^initial-|-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$|__prefix__|^_)/;

  function storage(kind) {
    try { return window[kind]; } catch (e) { return null; }  // disabled storage: no drafts, no errors
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");

  function read(key) {
    try { return JSON.parse(local.getItem(key) || "null"); } catch (e) { return null; }
  }

  function ready(callback) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", callback);
    else callback();
  }

  // The rich-text editors, by their textarea: filled on restore through the editor itself.
  var editors = new Map();
  document.addEventListener("prose-editor:ready", function (event) {
    editors.set(event.detail.textarea, event.detail.editor);
  });

  /* The form's values, by field name. Selects keep their options' texts too: the
   * autocomplete widgets hold only their chosen option, which a restore must make again. */
  function serialise(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIPPED.test(el.name) || el.disabled) return;
      var type = (el.type || "").toLowerCase();
      if (type === "submit" || type === "button" || type === "file" || type === "reset") return;
      if (type === "checkbox" || type === "radio") {
        if (type === "radio" && !el.checked) return;
        fields[el.name] = type === "checkbox" ? el.checked : el.value;
      } else if (el.tagName === "SELECT") {
        fields[el.name] = {options: Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return [o.value, o.text]; })};
      } else {
        fields[el.name] = el.value;
      }
    });
    return fields;
  }

  function inlineRowsFor(form, name) {
    // A field of an inline row added after the page loaded ("articlecategory_set-2-category"):
    // add rows with the inline's own "add another" link until it exists (a bounded loop).
    var match = /^(.+)-(\d+)-[^-]+$/.exec(name);
    if (!match) return;
    var group = document.getElementById(match[1] + "-group");
    var link = group && group.querySelector(".add-row a");
    for (var i = 0; i < 50 && link && !form.elements.namedItem(name); i++) link.click();
  }

  function fill(form, fields) {
    Object.keys(fields).forEach(function (name) {
      if (!form.elements.namedItem(name)) inlineRowsFor(form, name);
      var el = form.elements.namedItem(name);
      if (!el) return;
      var value = fields[name];
      if (el instanceof RadioNodeList) {
        Array.prototype.forEach.call(el, function (radio) { radio.checked = radio.value === value; });
        return;
      }
      if (el.type === "checkbox") {
        el.checked = Boolean(value);
      } else if (el.tagName === "SELECT") {
        var wanted = (value && value.options) || [];
        Array.prototype.forEach.call(el.options, function (o) { o.selected = false; });
        wanted.forEach(function (pair) {
          var option = Array.prototype.find.call(el.options, function (o) { return o.value === pair[0]; });
          if (!option) { option = new Option(pair[1], pair[0]); el.add(option); }
          option.selected = true;
        });
      } else {
        el.value = value;
        var editor = editors.get(el);
        if (editor) {
          editor.commands.setContent(value || "");
          el.value = value;  // the editor may normalise; the kept text is what is submitted
        }
      }
      el.dispatchEvent(new Event("change", {bubbles: true}));
      if (window.django && window.django.jQuery) window.django.jQuery(el).trigger("change.select2");
    });
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function whenText(banner, savedAt) {
    var text = new Date(savedAt).toLocaleString(document.documentElement.lang || undefined);
    return (banner.dataset.savedAt || "%(time)s").replace("%(time)s", text);
  }

  /* The page a save landed on. Saved (the admin's success message, no error): the draft it
   * saved goes. Anything else (a refused save, an error page and back) keeps it. */
  function settleSubmitted(formFailed) {
    var key = session && session.getItem(SUBMITTED);
    if (!key) return null;
    session.removeItem(SUBMITTED);
    if (!formFailed && local && document.querySelector(".messagelist .success")) local.removeItem(key);
    return key;
  }

  /* Copies nobody came back for in a month go: storage stays small. */
  function forgetOld() {
    var limit = Date.now() - 30 * 24 * 3600 * 1000;
    for (var i = local.length - 1; i >= 0; i--) {
      var k = local.key(i);
      var draft = k && k.indexOf(PREFIX) === 0 ? read(k) : null;
      if (k && k.indexOf(PREFIX) === 0 && (!draft || !(draft.savedAt > limit))) local.removeItem(k);
    }
  }

  function start() {
    if (local) forgetOld();
    var banner = document.getElementById("local-draft");
    var form = banner && banner.closest("form");
    var failed = Boolean(form && document.querySelector(".errornote, .errorlist"));
    var submittedKey = settleSubmitted(failed);
    if (!form || !local) return;

    var version = form.elements.namedItem("version");
    var article = banner.dataset.article;
    var base = article ? PREFIX + "article:" + article + ":" : PREFIX + "add:user" + banner.dataset.user;
    var key = article ? base + "v" + (version ? version.value : "") : base;
    var baseline = serialise(form);
    var submitting = false;
    var timer = null;

    function keep() {
      timer = null;
      if (submitting) return;
      var fields = serialise(form);
      if (same(fields, baseline)) { local.removeItem(key); return; }
      try {
        local.setItem(key, JSON.stringify({savedAt: Date.now(), version: version ? version.value : null,
                                           path: location.pathname, fields: fields}));
      } catch (e) { /* storage full: nothing kept, the form still works */ }
    }
    function keepSoon() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(keep, 500);
    }

    if (failed && submittedKey) {
      // The save was refused (an error, or someone else's save: the form is now at their
      // version). The form shows the editor's values, unsaved: keep them under the new key.
      if (submittedKey !== key) local.removeItem(submittedKey);
      baseline = {};
      keep();
    } else {
      offer();
    }

    function offer() {
      // This article's kept copies: the version opened now first, else the newest of older ones.
      var found = null, foundKey = null;
      for (var i = 0; i < local.length; i++) {
        var k = local.key(i);
        if (k && k.indexOf(base) === 0) {
          var draft = read(k);
          if (draft && draft.fields && (!found || k === key || (foundKey !== key && draft.savedAt > found.savedAt))) {
            found = draft; foundKey = k;
          }
        }
      }
      if (!found) return;
      banner.querySelector("[data-draft-when]").textContent = whenText(banner, found.savedAt);
      banner.querySelector("[data-draft-older]").hidden = foundKey === key;
      banner.hidden = false;
      banner.querySelector("[data-draft-restore]").addEventListener("click", function () {
        fill(form, found.fields);
        if (foundKey !== key) local.removeItem(foundKey);
        banner.hidden = true;
        keep();
      });
      banner.querySelector("[data-draft-discard]").addEventListener("click", function () {
        local.removeItem(foundKey);
        banner.hidden = true;
      });
    }

    form.addEventListener("input", keepSoon);
    form.addEventListener("change", keepSoon);
    // A hidden tab may be killed without warning (phones, a crash): keep what is there now.
    document.addEventListener("visibilitychange", function () { if (document.hidden) keep(); });
    form.addEventListener("submit", function () {
      submitting = true;
      if (timer) { clearTimeout(timer); timer = null; }
      // The draft stays until the page after the save says it went through (settleSubmitted).
      var fields = serialise(form);
      if (!same(fields, baseline)) {
        try {
          local.setItem(key, JSON.stringify({savedAt: Date.now(), version: version ? version.value : null,
                                             path: location.pathname, fields: fields}));
        } catch (e) { /* full */ }
      }
      if (session) session.setItem(SUBMITTED, key);
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) submitting = false;  // back from the page after a submit: editing again
    });
    window.addEventListener("beforeunload", function (event) {
      if (submitting || same(serialise(form), baseline)) return;
      keep();
      event.preventDefault();
      event.returnValue = "";  // the browser asks "leave the page?" in its own words
    });
  }

  ready(start);
}());
