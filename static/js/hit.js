/* The reading beacon for 热门 (articles.hot).

   An article page names its beacon in data-hit on the <article>; this sends it
   once, after the page has loaded, as a POST with no body (sendBeacon: it does
   not delay the page or its unload). The page itself stays cached whole and
   the same for every reader; no cookie is read or set. A static file, so the
   Content-Security-Policy (script-src 'self') allows it; without scripts (or
   for crawlers, which seldom run them) nothing is counted. */
(function () {
  "use strict";

  function send() {
    var article = document.querySelector("article[data-hit]");
    if (!article) return;
    var url = article.getAttribute("data-hit");
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    if (window.fetch) {
      fetch(url, {method: "POST", keepalive: true, credentials: "omit"}).catch(function () {});
    }
  }

  if (document.readyState === "complete") {
    send();
  } else {
    window.addEventListener("load", send, {once: true});
  }
})();
