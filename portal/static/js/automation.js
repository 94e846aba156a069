// The automation pages' behaviour, kept out of the HTML so the CSP can forbid inline script.
// Each part acts only on the page that has its element.
(function () {
  "use strict";
  var script = document.currentScript;

  // Dashboard: the two live lists are fetched again every ten seconds (real time without a library).
  var box = document.getElementById("live"), last = null;
  if (box && box.dataset.src && window.fetch) {
    setInterval(function () {
      fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) {
        return r.ok && !r.redirected ? r.text() : null;
      }).then(function (html) {
        if (html !== null && html !== last) { last = html; box.innerHTML = html; }
      }).catch(function () {});
    }, 10000);
  }

  // Solutions: while a backfill runs the page reloads itself (the script tag says after how long).
  var reload = script && Number(script.dataset.reloadAfter);
  if (reload > 0) {
    setTimeout(function () { window.location.reload(); }, reload * 1000);
  }

  // Configure: the offset, unit and time mean nothing when the solution runs immediately.
  var anchor = document.getElementById("anchor");
  if (anchor) {
    var sync = function () {
      ["offset", "offset_unit", "at_time"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.closest(".field").hidden = anchor.value === "immediately";
      });
    };
    anchor.addEventListener("change", sync);
    sync();
  }
})();
