/* Coproduce: small page behaviours. The app works without this file. */
(function () {
  "use strict";

  // Move focus to an error summary so screen readers announce it.
  function focusErrors(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) summary.focus();
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    focusErrors(event.target);
    // A control replaced by its answer hands focus to the answer, not to the page.
    var answer = document.querySelector("[data-focus]");
    if (answer) {
      answer.removeAttribute("data-focus");
      answer.focus();
    }
  });

  // A boosted page swap keeps <body>'s attributes, so carry over the new page's CSRF token
  // (it changes when someone signs in or out).
  document.addEventListener("htmx:afterSwap", function () {
    var main = document.querySelector("main[data-csrf-token]");
    if (main) {
      document.body.setAttribute("hx-headers",
        JSON.stringify({"X-CSRFToken": main.getAttribute("data-csrf-token")}));
    }
  });

  // A ruler shows the number chosen as it moves (screen readers hear the slider's own value).
  document.addEventListener("input", function (event) {
    var ruler = event.target.closest && event.target.closest(".ruler");
    var shown = ruler && ruler.querySelector("output");
    if (shown) shown.textContent = event.target.value;
  });

  // "Print this letter" buttons (no inline script under the content security policy). They
  // are hidden until this script runs: without it, the browser's own Print still works.
  function showPrintButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", showPrintButtons);
  document.addEventListener("htmx:afterSettle", showPrintButtons);
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-print]");
    if (target) window.print();
  });

  // The service worker, and a prompt when a new version is waiting.
  if (!("serviceWorker" in navigator)) return;
  var prompt = document.getElementById("update-prompt");
  function offerUpdate(worker) {
    if (!prompt || !worker) return;
    prompt.hidden = false;
    document.getElementById("update-reload").addEventListener("click", function () {
      worker.postMessage("skip-waiting");
    });
  }
  var swUrl = document.body.getAttribute("data-sw");
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(swUrl, {scope: "/"}).then(function (registration) {
      if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
      registration.addEventListener("updatefound", function () {
        var worker = registration.installing;
        worker.addEventListener("statechange", function () {
          if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
        });
      });
    }).catch(function () { /* the app works without it */ });
  });
  var reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", function () {
    if (reloading || !prompt || prompt.hidden) return;
    reloading = true;
    window.location.reload();
  });
})();
