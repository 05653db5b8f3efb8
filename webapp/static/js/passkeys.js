/* Passkey ceremonies: asks the browser to make or use a passkey, and sends the answer
   to the server. Each [data-passkey] block names its options and verify addresses. */
(function () {
  "use strict";

  // Any browser with WebAuthn will do: where it lacks the JSON helpers (older iPhones and
  // Android browsers), the options and the answer are converted here.
  var supported = !!(window.PublicKeyCredential && navigator.credentials &&
    navigator.credentials.create && navigator.credentials.get);

  function fromBase64url(text) {
    var base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      var copy = Object.assign({}, item);
      copy.id = fromBase64url(item.id);
      return copy;
    });
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    options.user = Object.assign({}, json.user, {id: fromBase64url(json.user.id)});
    if (json.excludeCredentials) options.excludeCredentials = withIds(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json);
    options.challenge = fromBase64url(json.challenge);
    if (json.allowCredentials) options.allowCredentials = withIds(json.allowCredentials);
    return options;
  }

  // The browser's answer as JSON, as WebAuthn Level 3's toJSON() writes it.
  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ?
        credential.getClientExtensionResults() : {},
      response: {clientDataJSON: toBase64url(response.clientDataJSON)}
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return json;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) { return ""; }
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () {
        return {ok: false, error: ""};
      }).then(function (data) {
        if (!response.ok && data.ok === undefined) data.ok = false;
        data.status = response.status;
        return data;
      });
    });
  }

  // Messages come from the page, where they are translated.
  function message(block, key) {
    return block.getAttribute("data-msg-" + key) || "";
  }

  function explain(block, error) {
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      return message(block, "cancelled");
    }
    if (error && error.name === "InvalidStateError") return message(block, "exists");
    return message(block, "failed");
  }

  // Passkey autofill: offer the site's passkeys in the email field's suggestions, where the
  // browser can. Clicking the button cancels this quiet request and starts a normal one.
  var quietRequest = null;

  function finish(block, credential, say) {
    var nameInput = block.querySelector("[data-passkey-name]");
    say(message(block, "checking"));
    return post(block.getAttribute("data-verify-url"), {
      credential: credentialJSON(credential),
      name: nameInput ? nameInput.value : ""
    }).then(function (result) {
      if (!result.ok) throw {server: result.error || message(block, "failed")};
      say(message(block, "done"));
      window.location.assign(result.redirect);
    });
  }

  function offerAutofill(block, button, say) {
    if (!block.hasAttribute("data-autofill") || !PublicKeyCredential.isConditionalMediationAvailable) {
      return;
    }
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) return;
      quietRequest = new AbortController();
      var signal = quietRequest.signal;
      post(block.getAttribute("data-options-url"), {}).then(function (options) {
        if (options.ok === false || signal.aborted) return null;
        return navigator.credentials.get({
          mediation: "conditional", signal: signal,
          publicKey: requestOptions(options)
        });
      }).then(function (credential) {
        if (!credential) return null;
        quietRequest = null;
        button.disabled = true;
        return finish(block, credential, say);
      }).catch(function (error) {
        button.disabled = false;
        if (error && error.server) say(error.server, true);
      });
    }).catch(function () { /* no autofill here: the button still works */ });
  }

  // Leaving the page (a boosted swap) cancels a quiet request, so the next page can start one.
  document.addEventListener("htmx:beforeSwap", function () {
    if (quietRequest) { quietRequest.abort(); quietRequest = null; }
  });

  function setup(block) {
    var kind = block.getAttribute("data-passkey");
    var button = block.querySelector("[data-passkey-start]");
    var status = block.querySelector("[data-passkey-status]");
    if (block.hasAttribute("data-ready")) return;
    block.setAttribute("data-ready", "");
    var needsScript = block.querySelector("[data-passkey-needs-script]");
    if (needsScript) needsScript.hidden = true;
    if (!supported) {
      var note = block.querySelector("[data-passkey-unsupported]");
      if (note) note.hidden = false;
      return;
    }
    button.hidden = false;
    function say(message, isError) {
      status.textContent = message;
      status.classList.toggle("error-message", !!isError);
    }
    offerAutofill(block, button, say);
    button.addEventListener("click", function () {
      if (quietRequest) { quietRequest.abort(); quietRequest = null; }
      button.disabled = true;
      say(message(block, "waiting"));
      var extra = {
        token: block.getAttribute("data-token") || "",
        code: block.getAttribute("data-code") || ""
      };
      post(block.getAttribute("data-options-url"), extra).then(function (options) {
        if (options.ok === false) throw {server: options.error || message(block, "failed")};
        if (kind === "register") {
          return navigator.credentials.create(
            {publicKey: creationOptions(options)});
        }
        return navigator.credentials.get(
          {publicKey: requestOptions(options)});
      }).then(function (credential) {
        return finish(block, credential, say);
      }).catch(function (error) {
        button.disabled = false;
        say(error && error.server ? error.server : explain(block, error), true);
      });
    });
  }

  function init(root) {
    if (root.querySelectorAll) root.querySelectorAll("[data-passkey]").forEach(setup);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
