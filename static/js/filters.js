/* The filter form's tag and author pickers (templates/articles/_filters.html).

   Listing pages are cached whole and embed no tag or author name (a name whose
   last public article went would stay in every cached page); the form names
   the filter choices endpoint in data-choices (articles.views.filter_choices:
   {"tags": [[slug, name], ...], "authors": [...]}). This fetches it once per
   page view, when the filter box is opened or one of its inputs is focused,
   and fills the <datalist>s. A static file, so the Content-Security-Policy
   (script-src 'self', connect-src 'self') allows it; without scripts the
   inputs still take a typed slug. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-choices]");
  if (!form || !window.fetch) return;
  var box = form.closest("details");
  var requested = false;

  function fill(id, pairs) {
    var list = document.getElementById(id);
    if (!list || !Array.isArray(pairs)) return;
    var options = document.createDocumentFragment();
    pairs.forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      if (pair[1] !== pair[0]) option.textContent = pair[1];  // the name, where the slug is not it
      options.appendChild(option);
    });
    list.replaceChildren(options);
  }

  function load() {
    if (requested) return;
    requested = true;
    fetch(form.getAttribute("data-choices"), {credentials: "omit", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (choices) {
        if (!choices) return;
        fill("filter-tags", choices.tags);
        fill("filter-authors", choices.authors);
      })
      .catch(function () {});  // the inputs still take a typed slug
  }

  if (box && box.open) {
    load();
  } else if (box) {
    box.addEventListener("toggle", function () { if (box.open) load(); });
  }
  form.addEventListener("focusin", load);
})();
