// The integrations pages' behaviour, kept out of the HTML so the CSP can forbid inline script. Without
// JavaScript every part still works: the switch is a link to the page with its confirmation open, the
// server refuses an unticked confirmation, and a run's page has a refresh link.
(function () {
  "use strict";

  // The sync-stays switch opens its confirmation as a modal dialog.
  document.querySelectorAll("[data-opens]").forEach(function (opener) {
    var dialog = document.getElementById(opener.dataset.opens);
    if (!dialog || typeof dialog.showModal !== "function") return;
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      if (!dialog.open) dialog.showModal();
    });
    if (dialog.open) { dialog.close(); dialog.showModal(); }  // opened by the server (?confirm=, a refusal)
  });
  document.querySelectorAll("[data-closes]").forEach(function (closer) {
    var dialog = document.getElementById(closer.dataset.closes);
    if (!dialog || typeof dialog.close !== "function") return;
    closer.addEventListener("click", function (event) {
      event.preventDefault();
      dialog.close();
    });
  });

  // "Confirm & Turn On/Off" stays disabled until its box is ticked.
  document.querySelectorAll("input[data-enables]").forEach(function (box) {
    var button = document.getElementById(box.dataset.enables);
    if (!button) return;
    var sync = function () { button.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // A running run's progress bar follows its status; once it has finished the page is loaded again
  // (with its counts and errors).
  document.querySelectorAll(".run-progress[data-status-url]").forEach(function (box) {
    if (!window.fetch) return;
    var bar = box.querySelector("progress"), text = box.querySelector(".run-progress-text");
    var poll = function () {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok && !r.redirected ? r.json() : null; })
        .then(function (s) {
          if (!s) { setTimeout(poll, 5000); return; }
          bar.max = Math.max(s.total, 1);
          bar.value = s.done;
          text.textContent = s.done + " of " + s.total + " done";
          if (s.finished) { window.location.reload(); } else { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 1000);
  });
})();

// A unit's calendar address: a Copy button (shown only where the clipboard can be written).
(function () {
  "use strict";
  document.querySelectorAll("button[data-copies]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copies);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () { source.select(); });
    });
  });
})();
