// The import run's admin page follows its run while it is queued or running
// (editorial/import_admin.py): it asks the run's JSON every two seconds and
// shows the status, the progress and, once done, the counts, the errors and
// the warnings. A static file: the Content-Security-Policy allows no inline
// script. Without it, the page's <noscript> link reloads.
// Loaded in the page's <head> (the admin's media): it starts once the page is read.
function followImportRun() {
  "use strict";
  var live = document.getElementById("import-run-live");
  if (!live || live.dataset.inProgress !== "1") {
    return;
  }
  var url = live.dataset.progressUrl;
  var INTERVAL_MS = 2000;
  var MAX_FAILURES = 30; // a minute of unanswered polls: stop, the reload link stays

  function field(name) {
    return live.querySelector('[data-run="' + name + '"]');
  }

  function setText(name, text) {
    var element = field(name);
    if (element) {
      element.textContent = text;
    }
  }

  function list(title, lines, className) {
    var box = document.createElement("div");
    var heading = document.createElement("h3");
    heading.textContent = title;
    var items = document.createElement("ol");
    items.className = className;
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      items.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(items);
    return box;
  }

  function show(state) {
    setText("status", state.status_display + (state.failure_reason ? " — " + state.failure_reason : ""));
    var bar = field("progress");
    if (bar) {
      bar.max = Math.max(state.files_total || 0, 1);
      bar.value = state.files_done;
      bar.textContent = state.files_text;
    }
    setText("files", state.files_text);
    setText("counts", state.counts_text);
    live.dataset.status = state.status;
    if (!state.in_progress) {
      live.dataset.inProgress = "0";
      var box = field("progress-box");
      if (box) {
        box.hidden = true;
      }
      var counts = field("counts");
      if (counts && state.errors.length) {
        counts.appendChild(list(live.dataset.errorsTitle || "errors", state.errors, "import-errors"));
      }
      if (counts && state.warnings.length) {
        counts.appendChild(list(live.dataset.warningsTitle || "warnings", state.warnings, "import-warnings"));
      }
    }
  }

  var failures = 0;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        show(state);
        if (state.in_progress) {
          window.setTimeout(poll, INTERVAL_MS);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < MAX_FAILURES) {
          window.setTimeout(poll, INTERVAL_MS);
        }
      });
  }

  window.setTimeout(poll, INTERVAL_MS);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", followImportRun);
} else {
  followImportRun();
}
