// Script-rendered Duo Universal Prompt for the test stand-in (see tests/servers/duo.py).
// Like Duo's React app, nothing of the prompt exists until this script renders it.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("prompt-config").textContent);
  var texts = config.texts;
  var devices = config.devices;
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

  function findDevice(key) {
    return devices.filter(function (device) { return device.key === key; })[0] || devices[0];
  }

  function otherOptionsLink() {
    return el("button", {
      type: "button",
      class: "button--link other-options-link",
      text: texts.other_options,
      onclick: function () {
        renderOtherOptions("");
      },
    });
  }

  // --- screens ---

  function renderWaiting(kind, device, code) {
    var header = texts.push_header;
    if (kind === "call") {
      header = texts.call_header;
    } else if (code) {
      header = texts.verified_header;
    }
    var nodes = [el("h1", { id: "header-text", text: header })];
    if (code) {
      nodes.push(el("div", { class: "verification-code", text: code }));
      nodes.push(el("p", { class: "verification-hint", text: texts.verified_hint }));
    }
    var prefix = kind === "call" ? texts.calling : texts.sent_to;
    nodes.push(el("span", { class: "phone-name", text: prefix + " " + device.label }));
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

  function renderFailure(header, message, retry) {
    render([
      el("h1", { id: "error-view-header-text", text: header }),
      el("p", { class: "message-text", text: message }),
      el("button", {
        type: "button",
        class: "button--primary try-again-button",
        text: texts.try_again,
        onclick: retry,
      }),
      otherOptionsLink(),
    ]);
  }

  function renderLocked() {
    render([
      el("h1", { id: "error-view-header-text", text: texts.locked_header }),
      el("p", { class: "message-text", text: texts.locked_message }),
    ]);
  }

  function methodItem(method, label, description, device) {
    var link = el("a", { href: "#", class: "auth-method auth-method-link" }, [
      el("span", { class: "method-label", text: label }),
      el("span", { class: "method-description", text: description }),
    ]);
    var attrs = { class: "auth-method-wrapper", "data-testid": "test-id-" + method };
    if (device) {
      attrs["data-device"] = device.key;
    }
    // The listener sits on the item, so a click on the item or on its link both choose it.
    var item = el("li", attrs, [link]);
    item.addEventListener("click", function (event) {
      event.preventDefault();
      choose(method, device || devices[0]);
    });
    return item;
  }

  function renderOtherOptions(filterKey) {
    var nodes = [el("h1", { id: "header-text", text: texts.other_options_header })];
    if (devices.length > 1) {
      var filter = el("select", { id: "device-filter", "aria-label": texts.all_devices }, [
        el("option", { value: "", text: texts.all_devices }),
      ]);
      devices.forEach(function (device) {
        filter.appendChild(el("option", { value: device.key, text: device.name }));
      });
      filter.value = filterKey;
      filter.addEventListener("change", function () {
        renderOtherOptions(filter.value);
      });
      nodes.push(filter);
    }
    var shown = devices.filter(function (device) {
      return !filterKey || device.key === filterKey;
    });
    var items = [];
    [
      ["push", texts.method_push],
      ["mobile-otp", texts.method_mobile_otp],
      ["sms", texts.method_sms],
      ["phone", texts.method_phone],
    ].forEach(function (pair) {
      shown.forEach(function (device) {
        items.push(methodItem(pair[0], pair[1], device.label, device));
      });
    });
    items.push(methodItem("token", texts.method_token, texts.token_description, null));
    nodes.push(el("ul", { class: "all-auth-methods-list" }, items));
    render(nodes);
  }

  function renderPasscode(method, device, error, info) {
    var headers = { "mobile-otp": texts.passcode_header, token: texts.token_header, sms: texts.sms_header };
    var input = el("input", { class: "passcode-input", type: "text", inputmode: "numeric", autocomplete: "off" });
    var button = el("button", { type: "button", class: "button--primary verify-button", text: texts.verify });
    button.disabled = true;
    // Duo's React input enables Verify on the input event, so only a real input event counts.
    input.addEventListener("input", function () {
      button.disabled = input.value.length === 0;
    });
    button.addEventListener("click", function () {
      var fields = { factor: "Passcode", method: method, device: device.key, passcode: input.value };
      post("/frame/v4/prompt", fields).then(function (data) {
        poll(data.response.txid, { kind: "passcode", method: method, device: device }, 0, 0);
      });
    });
    var nodes = [el("h1", { id: "header-text", text: headers[method] })];
    if (info) {
      nodes.push(el("p", { class: "phone-name", text: info }));
    }
    if (error) {
      nodes.push(el("p", { class: "message-text error-message", text: error }));
    }
    nodes.push(input, button, otherOptionsLink());
    render(nodes);
  }

  function renderSmsStart(device) {
    render([
      el("h1", { id: "header-text", text: texts.sms_header }),
      el("p", { class: "phone-name", text: device.label }),
      el("button", {
        type: "button",
        class: "button--primary send-passcode-button",
        text: texts.send_passcode,
        onclick: function () {
          sendSms(device);
        },
      }),
      otherOptionsLink(),
    ]);
  }

  // --- methods ---

  function choose(method, device) {
    if (method === "push") {
      sendPush(device);
    } else if (method === "phone") {
      startCall(device);
    } else if (method === "sms") {
      sendSms(device);
    } else {
      renderPasscode(method, device);
    }
  }

  function sendPush(device) {
    post("/frame/v4/prompt", { factor: "Duo Push", device: device.key }).then(function (data) {
      renderWaiting("push", device, data.response.verification_code);
      poll(data.response.txid, { kind: "push", device: device }, 0, 0);
    });
  }

  function startCall(device) {
    post("/frame/v4/prompt", { factor: "Phone Call", device: device.key }).then(function (data) {
      renderWaiting("call", device, null);
      poll(data.response.txid, { kind: "call", device: device }, 0, 0);
    });
  }

  function sendSms(device) {
    post("/frame/v4/prompt", { factor: "SMS Passcode", device: device.key }).then(function () {
      renderPasscode("sms", device, null, texts.sms_sent + " " + device.label);
    });
  }

  function retry(attempt) {
    return function () {
      if (attempt.kind === "call") {
        startCall(attempt.device);
      } else {
        sendPush(attempt.device);
      }
    };
  }

  function showFailure(status, attempt) {
    var call = attempt.kind === "call";
    if (status === "deny") {
      renderFailure(texts.denied_header, call ? texts.call_denied_message : texts.denied_message, retry(attempt));
    } else {
      renderFailure(
        call ? texts.call_timeout_header : texts.timeout_header,
        call ? texts.call_timeout_message : texts.timeout_message,
        retry(attempt)
      );
    }
  }

  function poll(txid, attempt, count, errors) {
    if (count >= MAX_POLLS) {
      showFailure("timeout", attempt);
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
        } else if (status === "deny" && attempt.kind === "passcode") {
          renderPasscode(attempt.method, attempt.device, texts.passcode_invalid);
        } else if (status === "deny" || status === "timeout") {
          showFailure(status, attempt);
        } else {
          setTimeout(function () {
            poll(txid, attempt, count + 1, errors);
          }, config.poll_interval_ms);
        }
      })
      .catch(function () {
        if (errors < MAX_POLL_ERRORS) {
          setTimeout(function () {
            poll(txid, attempt, count + 1, errors + 1);
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

  // Duo starts with the method last used in this browser; a new browser gets a Duo Push.
  function start() {
    var device = findDevice(config.start_device);
    if (config.locked_out) {
      renderLocked();
    } else if (config.start_method === "phone") {
      startCall(device);
    } else if (config.start_method === "sms") {
      renderSmsStart(device);
    } else if (config.start_method === "mobile-otp" || config.start_method === "token") {
      renderPasscode(config.start_method, device);
    } else {
      sendPush(device);
    }
  }

  window.addEventListener("load", function () {
    setTimeout(start, config.render_delay_ms);
  });
})();
