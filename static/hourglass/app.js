// Hourglass page behaviour that htmx does not give by itself. No inline scripts,
// so the pages keep working under a strict Content Security Policy.
(function () {
  "use strict";

  // htmx does not swap error responses; tell the person what happened instead of
  // leaving a click that seems to do nothing.
  function showError(text) {
    var list = document.querySelector("ul.messages");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      list.setAttribute("role", "status");
      var main = document.getElementById("main");
      main.insertBefore(list, main.firstChild);
    }
    var item = document.createElement("li");
    item.className = "message message-error";
    item.setAttribute("data-testid", "htmx-error");
    var icon = document.createElement("span");
    icon.className = "message-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "✕ ";
    item.appendChild(icon);
    item.appendChild(document.createTextNode(text));
    list.appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function messageFor(status) {
    var texts = document.body.dataset;
    if (status === 403) return texts.msgForbidden;
    if (status === 404) return texts.msgNotFound;
    if (status === 0) return texts.msgOffline;
    return texts.msgError;
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(messageFor(event.detail.xhr.status));
  });
  document.addEventListener("htmx:sendError", function () {
    showError(messageFor(0));
  });
  // A session that ended meanwhile answers with the login page: load it whole.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr.responseURL || "";
    if (url.indexOf("/accounts/login/") !== -1) {
      window.location.href = url;
      event.detail.shouldSwap = false;
    }
  });
})();
