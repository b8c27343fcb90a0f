// Passkeys and security keys (WebAuthn): register one on Profile › Security, use one as the second factor at
// sign-in. The server sends the options as JSON and checks the answer; this file only carries them.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, body, extraHeaders) {
    var headers = {"X-CSRFToken": csrfToken(), "Content-Type": "application/json"};
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, {method: "POST", credentials: "same-origin", headers: headers, body: body || "{}"});
  }

  function credentialJSON(credential) {
    var response = credential.response, out = {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null, response: {
        clientDataJSON: toB64url(response.clientDataJSON)
      }
    };
    if (response.attestationObject) {
      out.response.attestationObject = toB64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(response.authenticatorData);
      out.response.signature = toB64url(response.signature);
      out.response.userHandle = response.userHandle ? toB64url(response.userHandle) : null;
    }
    return JSON.stringify(out);
  }

  function showError(button, message) {
    var box = button.closest("section, div").querySelector("[data-passkey-error]");
    if (box) { box.textContent = message; box.hidden = false; }
  }

  function finish(button, response) {
    return response.json().then(function (data) {
      if (data.redirect) { window.location.assign(data.redirect); }
      else { showError(button, data.error || "Error"); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-passkey-register], [data-passkey-signin]");
    if (!button) { return; }
    event.preventDefault();
    if (!window.PublicKeyCredential) { showError(button, button.dataset.unsupported || "WebAuthn is not available in this browser."); return; }
    var registering = button.hasAttribute("data-passkey-register");
    post(button.dataset.optionsUrl).then(function (r) { return r.json(); }).then(function (options) {
      options.challenge = toBytes(options.challenge);
      (options.allowCredentials || options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
      if (registering) {
        options.user.id = toBytes(options.user.id);
        return navigator.credentials.create({publicKey: options});
      }
      return navigator.credentials.get({publicKey: options});
    }).then(function (credential) {
      if (registering) {
        var name = document.getElementById("passkey-name");
        return post(button.dataset.addUrl, credentialJSON(credential),
                    {"X-Passkey-Name": name ? encodeURIComponent(name.value).slice(0, 300) : ""});
      }
      return post(button.dataset.verifyUrl, credentialJSON(credential));
    }).then(function (response) { return finish(button, response); }).catch(function (error) {
      showError(button, String(error && error.message || error));
    });
  });
}());
