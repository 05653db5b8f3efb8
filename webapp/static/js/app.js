/* Coproduce: small page behaviours. The app works without this file. */
(function () {
  "use strict";

  // Move focus to an error summary so screen readers announce it.
  function focusErrors(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) summary.focus();
  }
  // "Try again" on the offline page loads the page the person wanted (the address they
  // asked for, which the offline page keeps), not the home page; only when the address is
  // /offline itself is home the way. Caught before htmx sees the click.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-try-again]");
    if (!link || window.location.pathname === "/offline") return;
    event.preventDefault();
    event.stopPropagation();
    window.location.reload();
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    focusErrors(document);
    // A page that answers what the person just did says so where they were: focus goes
    // there (the address's #anchor has already scrolled to it).
    var said = document.querySelector("[data-focus-here]");
    if (said && !document.querySelector(".error-summary")) said.focus();
  });
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

  // --- Progress logged with no connection -----------------------------------------------
  // An entry made offline waits on this phone ("waiting to send") and is sent when the
  // connection returns, each with its own key so a replay is counted once by the server.
  // Entries belong to the person signed in when they were made; sign-out removes them.
  var OUTBOX = "coproduce-outbox";
  var PERSON = "coproduce-person";
  var PERSONAL_CACHE = "personal-v1";

  function main() { return document.querySelector("main"); }
  function personId() { var m = main(); return m ? m.getAttribute("data-person") : null; }
  function csrfToken() { var m = main(); return m ? m.getAttribute("data-csrf-token") : ""; }
  function readOutbox() {
    try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; }
  }
  function writeOutbox(entries) {
    try { localStorage.setItem(OUTBOX, JSON.stringify(entries)); } catch (e) { /* full: kept in page */ }
  }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(36).slice(2);
  }
  function forgetPersonal() {
    try { localStorage.removeItem(OUTBOX); localStorage.removeItem(PERSON); } catch (e) { /* none */ }
    var done = window.caches ? caches.delete(PERSONAL_CACHE) : Promise.resolve();
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("forget-personal");
    }
    return done;
  }
  // At sign-out this device stops getting the person's notifications (it may be shared).
  function forgetDevice(url) {
    if (!url || !("serviceWorker" in navigator) || !navigator.serviceWorker.controller) {
      return Promise.resolve();
    }
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager ? registration.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      if (!subscription) return;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
          body: JSON.stringify({endpoint: endpoint}),
        });
      });
    }).catch(function () { /* signing out goes on regardless */ });
  }

  function say(box, name, count) {
    return (box.getAttribute("data-" + name) || "").replace("{n}", String(count));
  }
  // The entries of the person signed in here that wait to be sent. Read afresh each time
  // from the phone's storage, which every open tab shares, so all tabs count the same.
  function waitingHere() {
    var person = personId();
    return person ? readOutbox().filter(function (entry) { return entry.person === person; }) : [];
  }
  // Every page says how many wait, in a line under the header; a page with the full list
  // (home, a goal) says it there instead.
  // A page without the list says there that entries were sent, when this tab sent them.
  function showWaitingNote(count, sent) {
    var note = document.querySelector("[data-outbox-note]");
    if (!note) return;
    var listed = document.querySelector("[data-outbox]");
    var words = "";
    if (!listed && sent) words = sent === 1 ? say(note, "sent-one") : say(note, "sent-many", sent);
    if (!listed && count > 0) {
      words = (words ? words + " " : "") + (count === 1 ? say(note, "waiting-one") : say(note, "waiting-many", count));
    }
    var text = note.querySelector("p") || note;
    text.textContent = words;
    note.hidden = !words;
  }
  function showOutbox(sent, refused, signedOut) {
    var mine = waitingHere();
    showWaitingNote(mine.length, sent);
    document.querySelectorAll("[data-outbox]").forEach(function (box) {
      box.textContent = "";
      var notes = [];
      if (sent) notes.push(sent === 1 ? say(box, "sent-one") : say(box, "sent-many", sent));
      if (refused) notes.push(say(box, "refused", refused));
      if (signedOut) notes.push(say(box, "signed-out"));
      if (notes.length) {
        var said = document.createElement("p");
        said.textContent = notes.join(" ");
        box.appendChild(said);
      }
      if (!mine.length) return;
      var intro = document.createElement("p");
      intro.textContent = mine.length === 1 ? say(box, "waiting-one") : say(box, "waiting-many", mine.length);
      box.appendChild(intro);
      var list = document.createElement("ul");
      mine.forEach(function (entry) {
        var item = document.createElement("li");
        item.textContent = entry.label + ": " + entry.words + " (" + say(box, "waiting") + ")";
        list.appendChild(item);
      });
      box.appendChild(list);
    });
  }

  function queue(form, outcome, words) {
    var fields = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && name !== "back") fields[name] = value;
    });
    fields.outcome = outcome;
    // The form's own key: if a send failed after the server had it, the replay is the same
    // entry. The form then gets a new key for the next one.
    fields.key = fields.key || newKey();
    fields.logged_at = new Date().toISOString();
    var keyInput = form.querySelector("input[name=key]");
    if (keyInput) keyInput.value = newKey();
    var entries = readOutbox();
    entries.push({
      url: form.getAttribute("action"),
      fields: fields,
      person: personId(),
      label: form.getAttribute("data-goal-words") || "",
      words: words,
    });
    writeOutbox(entries);
    form.querySelectorAll("textarea, input[type=text]").forEach(function (input) { input.value = ""; });
    showOutbox();
    retryLater();
  }

  // Sending what waits, again and again until it is all sent: when the connection returns
  // (the "online" event), and on a timer while anything waits (the phone may think it is
  // online while the signal is too weak, or the server may have failed): first after
  // RETRY_FIRST, then twice as long each time up to RETRY_MOST, and back to RETRY_FIRST
  // once something is sent. The timer stops when nothing waits.
  var RETRY_FIRST = 10 * 1000;
  var RETRY_MOST = 5 * 60 * 1000;
  var retryDelay = RETRY_FIRST;
  var retryTimer = null;
  function retryLater() {
    if (retryTimer !== null || !waitingHere().length) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      flush();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MOST);
  }
  function retrySoon() {
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = null;
    retryDelay = RETRY_FIRST;
  }

  // One tab sends at a time (a Web Lock shared by the phone's tabs of this app), and reads
  // the queue again once it holds the lock, so an entry another tab has just sent is not
  // sent twice. (The server counts a key once anyway; this spares the phone's data.) A tab
  // that finds another sending leaves it be and looks again on its timer.
  function exclusively(work) {
    if (!navigator.locks || !navigator.locks.request) return work();
    return navigator.locks.request("coproduce-outbox", {ifAvailable: true}, function (lock) {
      return lock ? work() : Promise.resolve(null);
    });
  }
  var sending = false;
  function refreshProgress() {
    var region = document.querySelector("[data-progress-region]");
    if (!region) return Promise.resolve();
    return fetch(window.location.href, {credentials: "same-origin"}).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-progress-region]");
      if (fresh) region.replaceWith(fresh);
    }).catch(function () { /* the list updates on the next visit */ });
  }
  function sendAll() {
    var waiting = waitingHere();
    if (!waiting.length) return Promise.resolve(null);
    var outcome = {sent: 0, refused: 0, signedOut: false};
    function drop(entry) {
      writeOutbox(readOutbox().filter(function (e) { return e.fields.key !== entry.fields.key; }));
    }
    var chain = Promise.resolve();
    waiting.forEach(function (entry) {
      chain = chain.then(function () {
        if (outcome.signedOut) return;
        var body = new URLSearchParams(entry.fields);
        body.set("csrf_token", csrfToken());
        return fetch(entry.url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: {"X-Outbox": "1", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
          redirect: "manual",
        }).then(function (response) {
          // Counted only when the server says so in JSON. Refused for good (422, 404; 403
          // and 409 when a carer's help has ended or the entry was for another person's
          // record): it leaves the queue and is reported. Anything else (no connection, a
          // server error, a session that ended, a redirect) keeps it for later.
          if (response.status === 401) { outcome.signedOut = true; return; }
          if ([403, 404, 409, 422].indexOf(response.status) !== -1) {
            outcome.refused += 1;
            drop(entry);
            return;
          }
          if (!response.ok || response.type === "opaqueredirect") return;
          return response.json().then(function (answer) {
            if (answer && typeof answer.logged === "boolean") { outcome.sent += 1; drop(entry); }
          });
        }).catch(function () { /* no connection, or it dropped: kept for the next try */ });
      });
    });
    return chain.then(function () { return outcome; });
  }
  function flush() {
    if (sending || !personId() || !waitingHere().length) return;
    if (!navigator.onLine) { retryLater(); return; }
    sending = true;
    Promise.resolve(exclusively(sendAll)).catch(function () { return null; }).then(function (outcome) {
      sending = false;
      if (outcome) showOutbox(outcome.sent, outcome.refused, outcome.signedOut);
      else showOutbox();
      if (outcome && outcome.signedOut) return;  // sent after the person signs in again
      if (outcome && outcome.sent) retrySoon();
      retryLater();
      if (outcome && outcome.sent) return refreshProgress();
    });
  }

  // A submit with no connection never leaves the page: it is queued instead (capture phase,
  // before htmx or the browser send it).
  var lastSubmitter = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-outbox-form] button[name=outcome]");
    if (button) lastSubmitter = button;
  }, true);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-outbox-form]") || navigator.onLine) return;
    var button = event.submitter || lastSubmitter;
    if (!button || !personId()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    queue(form, button.value, button.textContent.trim());
  }, true);
  // Sent with a connection that failed on the way: queued too.
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail && event.detail.elt;
    form = form && form.closest ? form.closest("[data-outbox-form]") : null;
    if (form && lastSubmitter && form.contains(lastSubmitter)) {
      queue(form, lastSubmitter.value, lastSubmitter.textContent.trim());
    } else if (event.detail && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
      // A link followed with no connection: let the browser (and the offline copy) answer.
      window.location.href = event.detail.requestConfig.path;
    }
  });
  window.addEventListener("online", function () { retrySoon(); flush(); });
  // Another tab queued or sent an entry: this one counts again, and keeps its timer going.
  window.addEventListener("storage", function (event) {
    if (event.key !== OUTBOX && event.key !== null) return;
    showOutbox();
    retryLater();
  });

  // Sign-out removes this person's offline copies and anything still waiting, first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-signout]") || form.hasAttribute("data-forgotten")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    form.setAttribute("data-forgotten", "");
    var submit = function () { form.submit(); };
    var patience = new Promise(function (resolve) { setTimeout(resolve, 3000); });
    Promise.race([
      Promise.all([forgetPersonal(), forgetDevice(form.getAttribute("data-forget-device"))]),
      patience,
    ]).then(submit, submit);
  }, true);

  // Every page shown gets fresh form keys: a page read from the phone's copy would
  // otherwise repeat the key it was saved with, and two entries would count as one.
  function freshKeys() {
    document.querySelectorAll("[data-outbox-form] input[name=key]").forEach(function (input) {
      input.value = newKey();
    });
  }

  function arrive() {
    freshKeys();
    var person = personId();
    if (person) {
      var before = null;
      try { before = localStorage.getItem(PERSON); } catch (e) { /* none */ }
      // Someone else signed in on this phone: nothing of the last person's stays.
      if (before && before !== person) forgetPersonal();
      try { localStorage.setItem(PERSON, person); } catch (e) { /* none */ }
    }
    if (!person && navigator.onLine && document.querySelector("main[data-signed-out]")) {
      // A page for someone signed out (a session that ended, not a sign-out here): the
      // kept pages go. Entries still waiting stay, to be sent when the same person signs
      // in again (they go if someone else does), so nothing logged is lost.
      if (window.caches) caches.delete(PERSONAL_CACHE);
    }
    showOutbox();
    flush();
  }
  document.addEventListener("DOMContentLoaded", arrive);
  document.addEventListener("htmx:afterSettle", function () { freshKeys(); showOutbox(); flush(); });

  // --- Notifications on this device (Web Push) -----------------------------------------
  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    var raw = atob(padded), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function deviceLabel() {
    var agent = navigator.userAgent;
    var browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox"
      : /Chrome\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "A browser";
    var system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iPhone or iPad"
      : /Windows/.test(agent) ? "Windows" : /Mac OS/.test(agent) ? "Mac" : /Linux/.test(agent) ? "Linux" : "";
    return system ? browser + " on " + system : browser;
  }
  function showPush() {
    var box = document.querySelector("[data-push]");
    if (box && "PushManager" in window && "serviceWorker" in navigator) box.hidden = false;
  }
  document.addEventListener("DOMContentLoaded", showPush);
  document.addEventListener("htmx:afterSettle", showPush);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-push-subscribe]");
    if (!button) return;
    var problem = document.querySelector("[data-push-problem]");
    function fail(kind) { if (problem) problem.textContent = problem.getAttribute("data-" + kind); }
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw new Error("blocked");
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(button.getAttribute("data-key")),
      });
    }).then(function (subscription) {
      return fetch(button.getAttribute("data-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
        body: JSON.stringify({subscription: subscription.toJSON(), label: deviceLabel()}),
      });
    }).then(function (response) {
      if (!response.ok) throw new Error("failed");
      window.location.reload();
    }).catch(function (error) {
      button.disabled = false;
      fail(error && error.message === "blocked" ? "blocked" : "failed");
    });
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
