/* The preview beside the article form: the form's current values, not saved, rendered by
 * the public article template (editorial/safe_edit.py) in a frame beside the form.
 *
 * The form itself is posted into the frame (its action and target swapped for one
 * submit() call, which fires no submit event, so nothing counts it as a save), with the
 * CSRF token it carries. The frame follows the edits a moment after the typing stops.
 * "Desktop" shows the page at 1280 px scaled into the panel, "Phone" at 390 px.
 */
(function () {
  "use strict";

  var WIDTHS = {desktop: 1280, phone: 390};

  function start() {
    var panel = document.getElementById("article-preview-panel");
    var opener = document.querySelector("[data-preview-open]");
    var form = panel && panel.closest("form");
    if (!panel || !opener || !form) return;
    var stage = panel.querySelector(".preview-stage");
    var frame = document.createElement("iframe");  // not in the served page (see _safe_edit.html)
    frame.name = "article-preview";
    frame.title = stage.dataset.frameTitle;
    stage.appendChild(frame);
    var width = "desktop";
    var timer = null;

    function fit() {
      // The page is laid out at the chosen width, then scaled to the panel (CSSOM, not an inline style).
      var wanted = WIDTHS[width];
      var scale = Math.min(1, stage.clientWidth / wanted);
      frame.style.setProperty("width", wanted + "px");
      frame.style.setProperty("height", Math.round(stage.clientHeight / scale) + "px");
      frame.style.setProperty("transform", "scale(" + scale + ")");
      stage.classList.toggle("phone", width === "phone");
    }

    var scrollY = 0;
    frame.addEventListener("load", function () {
      try {
        var page = frame.contentWindow;
        page.scrollTo(0, scrollY);  // a redraw keeps the reader's place
        // Links and the search form open beside the admin, not inside the frame (the public
        // pages refuse to be framed).
        Array.prototype.forEach.call(page.document.querySelectorAll("a[href], form"), function (el) {
          el.setAttribute("target", "_blank");
        });
      } catch (e) { /* not our page (an error page of the browser's own) */ }
    });

    function refresh() {
      timer = null;
      if (panel.hidden) return;
      try { scrollY = frame.contentWindow.scrollY || 0; } catch (e) { scrollY = 0; }
      var action = form.getAttribute("action"), target = form.getAttribute("target");
      form.setAttribute("action", panel.dataset.url);
      form.setAttribute("target", frame.name);
      try {
        HTMLFormElement.prototype.submit.call(form);
      } finally {
        if (action === null) form.removeAttribute("action"); else form.setAttribute("action", action);
        if (target === null) form.removeAttribute("target"); else form.setAttribute("target", target);
      }
    }

    function refreshSoon() {
      if (panel.hidden) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(refresh, 1200);
    }

    function show(open) {
      panel.hidden = !open;
      document.body.classList.toggle("article-preview-open", open);
      opener.setAttribute("aria-expanded", String(open));
      if (open) { fit(); refresh(); }
    }

    opener.addEventListener("click", function () { show(panel.hidden); });
    panel.querySelector("[data-preview-close]").addEventListener("click", function () { show(false); });
    panel.querySelector("[data-preview-refresh]").addEventListener("click", refresh);
    Array.prototype.forEach.call(panel.querySelectorAll("[data-preview-width]"), function (button) {
      button.addEventListener("click", function () {
        width = button.dataset.previewWidth;
        Array.prototype.forEach.call(panel.querySelectorAll("[data-preview-width]"), function (other) {
          other.setAttribute("aria-pressed", String(other === button));
        });
        fit();
      });
    });
    form.addEventListener("input", refreshSoon);
    form.addEventListener("change", refreshSoon);
    window.addEventListener("resize", function () { if (!panel.hidden) fit(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}());
