// Traditional Duo prompt frame for the test stand-in (see tests/servers/duo_traditional.py).
(function () {
  "use strict";

  // This script runs in the head, before the body exists: it finds elements when it needs
  // them and listens on the document.
  var config = JSON.parse(document.getElementById("frame-config").textContent);
  var texts = config.texts;
  var parentOrigin = new URL(config.parent).origin;
  // Bounds every status poll loop, independent of the server-side push timeout.
  var MAX_POLLS = 2000;
  var MAX_POLL_ERRORS = 20;
  var POLL_MS = 300;

  function post(path, fields) {
    var body = new URLSearchParams(fields);
    body.set("sid", config.sid);
    return fetch(path, { method: "POST", body: body, credentials: "same-origin" }).then(
      function (response) {
        return response.json();
      }
    );
  }

  function showMessage(text, kind) {
    var line = document.createElement("div");
    line.className = "message " + kind;
    var content = document.createElement("span");
    content.className = "message-content";
    content.textContent = text;
    line.appendChild(content);
    document.querySelector("#messages-view .messages-list").replaceChildren(line);
  }

  function answerParent(cookie) {
    window.parent.postMessage("sig_response|" + cookie, parentOrigin);
  }

  function submitFactor(factor) {
    var form = document.getElementById("login-form");
    var device = form.querySelector("select[name=device]");
    var remember = form.querySelector("input[name=dampen_choice]");
    var fields = {
      factor: factor,
      device: device ? device.value : config.default_device,
      dampen_choice: remember.checked ? "true" : "false",
    };
    if (factor === "Passcode") {
      fields.passcode = form.querySelector("input[name=passcode]").value;
    }
    post("/frame/prompt", fields).then(function (data) {
      if (data.stat !== "OK") {
        showMessage(data.message, "error");
        return;
      }
      poll(data.response.txid, 0, 0);
    });
  }

  function poll(txid, count, errors) {
    if (count >= MAX_POLLS) {
      showMessage(texts.timeout, "error");
      return;
    }
    post("/frame/status", { txid: txid })
      .then(function (data) {
        var response = data.response;
        if (response.status_code === "allow") {
          showMessage(response.status, "success");
          post(response.result_url, {}).then(function (result) {
            answerParent(result.response.cookie);
          });
        } else if (response.status_code === "deny" || response.status_code === "timeout") {
          showMessage(response.status, "error");
        } else {
          showMessage(response.status, "info");
          setTimeout(function () {
            poll(txid, count + 1, errors);
          }, POLL_MS);
        }
      })
      .catch(function () {
        if (errors < MAX_POLL_ERRORS) {
          setTimeout(function () {
            poll(txid, count + 1, errors + 1);
          }, POLL_MS);
        }
      });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.auth-button") : null;
    if (!button || button.disabled) {
      return;
    }
    var factor = button.getAttribute("data-factor");
    var input = document.querySelector("input[name=passcode]");
    // The first click on "Enter a Passcode" only shows the field, as Duo's frame does.
    if (factor === "Passcode" && input.classList.contains("hidden")) {
      input.classList.remove("hidden");
      button.textContent = "Log In";
      input.focus();
      return;
    }
    submitFactor(factor);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.name === "passcode") {
      event.preventDefault();
      submitFactor("Passcode");
    }
  });

  if (config.auto_response) {
    answerParent(config.auto_response);
  }
})();
