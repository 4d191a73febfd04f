// The IdP's side of the traditional Duo prompt for the test stand-in: loads the frame named by
// iframe#duo_iframe and submits form#duo_form with sig_response when the frame answers, as
// Duo's own Duo-Web-v2.js does (see tests/servers/duo_traditional.py).
(function () {
  "use strict";

  var iframe = document.getElementById("duo_iframe");
  var form = document.getElementById("duo_form");
  var host = iframe.getAttribute("data-host");
  var sigParts = iframe.getAttribute("data-sig-request").split(":");
  var duoOrigin = "http://" + host;

  window.addEventListener("message", function (event) {
    if (event.origin !== duoOrigin || typeof event.data !== "string") {
      return;
    }
    if (event.data.indexOf("sig_response|") !== 0) {
      return;
    }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "sig_response";
    input.value = event.data.slice("sig_response|".length) + ":" + sigParts[1];
    form.appendChild(input);
    form.submit();
  });

  iframe.src =
    duoOrigin +
    "/frame/web/v1/auth?tx=" +
    encodeURIComponent(sigParts[0]) +
    "&parent=" +
    encodeURIComponent(document.URL) +
    "&v=2.6";
})();
