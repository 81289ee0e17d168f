/* Images that never look broken.

   An image that fails to load (hot-link protection, link rot, no network) is
   replaced by a neutral placeholder box of the size it had, so nothing moves;
   an article body's image leaves its alt text in the box as a caption. A
   static file without inline handlers, so the Content-Security-Policy
   (script-src 'self') allows it. With scripts off, site.css covers a failed
   image's icon instead (see "Images that fail" there). */
(function () {
  "use strict";

  function replace(img) {
    if (!img.parentNode) return;
    var box = document.createElement("span");
    var caption = (img.getAttribute("alt") || "").trim();
    var inBody = img.closest(".article-body") !== null;
    box.className = "img-fallback" + (inBody ? " img-fallback-body" : "") +
      (img.classList.contains("head-image") ? " img-fallback-head" : "");
    if (inBody && caption) box.textContent = caption;
    // A thumbnail's frame (.thumb) sizes its box; any other keeps the size the image took.
    if (!img.closest(".thumb")) {
      var rect = img.getBoundingClientRect();
      if (rect.width > 0 && rect.height > 0) {
        box.style.width = rect.width + "px";
        box.style.aspectRatio = rect.width + " / " + rect.height;
      }
    }
    img.replaceWith(box);
  }

  function failed(img) {
    return img.complete && img.naturalWidth === 0 && img.getAttribute("src");
  }

  // Images that fail from now on (the lazy ones as the reader scrolls): errors do not bubble, so capture.
  document.addEventListener("error", function (event) {
    if (event.target instanceof HTMLImageElement) replace(event.target);
  }, true);
  // Those that failed before this deferred script ran.
  Array.prototype.slice.call(document.images).filter(failed).forEach(replace);
})();
