// Script-rendered Duo Universal Prompt for the test stand-in (see tests/servers/duo.py).
// Like Duo's React app, nothing of the prompt exists until this script renders it.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("prompt-config").textContent);
  var texts = config.texts;
  var root = document.getElementById("root");
  // Bounds every status poll loop, independent of the server-side push timeout.
  var MAX_POLLS = 2000;
  var MAX_POLL_ERRORS = 20;
  var SUCCESS_LABEL_MS = 300;

  function post(path, fields) {
    var body = new URLSearchParams(fields);
    body.set("sid", config.sid);
    body.set("_xsrf", config.xsrf);
    return fetch(path, { method: "POST", body: body, credentials: "same-origin" }).then(
      function (response) {
        return response.json();
      }
    );
  }

  // Build an element: attrs may carry "text", "onclick" and any attribute.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name === "text") {
        node.textContent = value;
      } else if (name === "onclick") {
        node.addEventListener("click", value);
      } else {
        node.setAttribute(name, value);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function render(nodes) {
    root.replaceChildren.apply(root, nodes);
  }

  function otherOptionsLink() {
    return el("button", {
      type: "button",
      class: "button--link other-options-link",
      text: texts.other_options,
      onclick: renderOtherOptions,
    });
  }

  function renderPush(push) {
    var verified = Boolean(push.verification_code);
    var nodes = [
      el("h1", { id: "header-text", text: verified ? texts.verified_header : texts.push_header }),
    ];
    if (verified) {
      nodes.push(el("div", { class: "verification-code", text: push.verification_code }));
      nodes.push(el("p", { class: "verification-hint", text: texts.verified_hint }));
    }
    nodes.push(
      el("p", {
        class: "device-name",
        text: texts.sent_to + ' "' + config.device_name + '" (' + config.device_number + ")",
      })
    );
    nodes.push(otherOptionsLink());
    render(nodes);
  }

  function renderSuccess() {
    render([el("h1", { id: "push-success-label", text: texts.success })]);
  }

  function renderTrust(txid) {
    render([
      el("h1", { id: "header-text", text: texts.trust_header }),
      el("p", { class: "trust-hint", text: texts.trust_hint }),
      el("button", {
        id: "trust-browser-button",
        type: "button",
        class: "button--primary",
        text: texts.trust_yes,
        onclick: function () {
          exit(txid, true);
        },
      }),
      el("button", {
        id: "dont-trust-browser-button",
        type: "button",
        class: "button--secondary",
        text: texts.trust_no,
        onclick: function () {
          exit(txid, false);
        },
      }),
    ]);
  }

  function renderFailure(header, message) {
    render([
      el("h1", { id: "error-view-header-text", text: header }),
      el("p", { class: "message-text", text: message }),
      el("button", {
        type: "button",
        class: "button--primary try-again-button",
        text: texts.try_again,
        onclick: sendPush,
      }),
      otherOptionsLink(),
    ]);
  }

  function renderOtherOptions() {
    function method(testId, label, onclick) {
      return el("li", { "data-testid": testId, class: "method-list-item" }, [
        el("button", { type: "button", class: "button--link auth-method-link", text: label, onclick: onclick }),
      ]);
    }
    render([
      el("h1", { id: "header-text", text: texts.other_options_header }),
      el("ul", { class: "method-list" }, [
        method("test-id-push", texts.method_push, sendPush),
        method("test-id-mobile-otp", texts.method_passcode, renderPasscode),
      ]),
    ]);
  }

  function renderPasscode(error) {
    var input = el("input", { class: "passcode-input", type: "text", inputmode: "numeric", autocomplete: "off" });
    var button = el("button", { type: "button", class: "button--primary verify-button", text: texts.verify });
    button.disabled = true;
    // Duo's React input enables Verify on the input event, so only a real input event counts.
    input.addEventListener("input", function () {
      button.disabled = input.value.length === 0;
    });
    button.addEventListener("click", function () {
      post("/frame/v4/prompt", { factor: "Passcode", device: "phone1", passcode: input.value }).then(function (data) {
        poll(data.response.txid, 0, 0);
      });
    });
    var nodes = [el("h1", { id: "header-text", text: texts.passcode_header })];
    if (typeof error === "string") {
      nodes.push(el("p", { class: "message-text error-message", text: error }));
    }
    nodes.push(input, button, otherOptionsLink());
    render(nodes);
  }

  function sendPush() {
    post("/frame/v4/prompt", { factor: "Duo Push", device: "phone1" }).then(function (data) {
      renderPush(data.response);
      poll(data.response.txid, 0, 0);
    });
  }

  function poll(txid, count, errors) {
    if (count >= MAX_POLLS) {
      renderFailure(texts.timeout_header, texts.timeout_message);
      return;
    }
    post("/frame/v4/status", { txid: txid })
      .then(function (data) {
        var status = data.response.status_code;
        if (status === "allow") {
          renderSuccess();
          setTimeout(function () {
            renderTrust(txid);
          }, SUCCESS_LABEL_MS);
        } else if (status === "deny") {
          if (root.querySelector(".passcode-input")) {
            renderPasscode(texts.passcode_invalid);
          } else {
            renderFailure(texts.denied_header, texts.denied_message);
          }
        } else if (status === "timeout") {
          renderFailure(texts.timeout_header, texts.timeout_message);
        } else {
          setTimeout(function () {
            poll(txid, count + 1, errors);
          }, config.poll_interval_ms);
        }
      })
      .catch(function () {
        if (errors < MAX_POLL_ERRORS) {
          setTimeout(function () {
            poll(txid, count + 1, errors + 1);
          }, config.poll_interval_ms);
        }
      });
  }

  // Real Duo leaves the prompt with a form post that redirects (303) back to the application.
  function exit(txid, trusted) {
    var form = el("form", { method: "post", action: "/frame/v4/oidc/exit" });
    var fields = { sid: config.sid, _xsrf: config.xsrf, txid: txid, dampen_choice: String(trusted) };
    Object.keys(fields).forEach(function (name) {
      form.appendChild(el("input", { type: "hidden", name: name, value: fields[name] }));
    });
    document.body.appendChild(form);
    form.submit();
  }

  window.addEventListener("load", function () {
    setTimeout(sendPush, config.render_delay_ms);
  });
})();
