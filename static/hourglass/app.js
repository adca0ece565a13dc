// Hourglass page behaviour that htmx does not give by itself. No inline scripts,
// so the pages keep working under a strict Content Security Policy.
(function () {
  "use strict";

  // htmx does not swap error responses; tell the person what happened instead of
  // leaving a click that seems to do nothing.
  function showError(text) {
    // The list goes in the page's live region (base.html), which announces it.
    var region = document.getElementById("messages");
    var list = region && region.querySelector("ul.messages");
    if (region && !list) {
      list = document.createElement("ul");
      list.className = "messages";
      region.appendChild(list);
    }
    if (!list) return;
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

  // A field that saves itself (its wrapper carries data-msg-server-error, e.g.
  // metrics/_entry_field.html) says a failed save in its own status line and
  // keeps what was typed: nothing is swapped, the rest of the page stays. The
  // status line is a live region outside the wrapper htmx swaps; the wrapper's
  // data-field-status names it.
  function savingFieldOf(event) {
    var elt = event.detail.elt;
    return elt && elt.closest ? elt.closest("[data-msg-server-error]") : null;
  }

  function showFieldError(field, text) {
    var status = document.getElementById(field.dataset.fieldStatus || "");
    if (!status || !text) return false;
    var error = document.createElement("span");
    error.className = "entry-error";
    error.setAttribute("data-testid", "field-save-error");
    var icon = document.createElement("span");
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "✕ ";
    error.appendChild(icon);
    error.appendChild(document.createTextNode(text));
    status.replaceChildren(error);
    field.classList.add("field-invalid");
    var input = field.querySelector("input, select, textarea");
    if (input && status.id) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", status.id);
    }
    return true;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    var field = savingFieldOf(event);
    if (field && status >= 500 && showFieldError(field, field.dataset.msgServerError)) {
      return;
    }
    showError(messageFor(status));
  });
  document.addEventListener("htmx:sendError", function (event) {
    var field = savingFieldOf(event);
    if (field && showFieldError(field, field.dataset.msgOffline)) return;
    showError(messageFor(0));
  });
  // A step's label is a textarea so it can hold two lines (systemmaps
  // StepLabelField): Enter saves it as in a one-line field, Shift+Enter starts
  // the new line. Not while an input method composes (Korean, for one).
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (
      event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey ||
      event.metaKey || event.isComposing || !field.matches ||
      !field.matches("textarea[data-enter-submits]") || !field.form
    ) {
      return;
    }
    event.preventDefault();
    field.form.requestSubmit();
  });
  // An error answer is never swapped in (the htmx-config in base.html says so
  // too): a 5xx page must not replace a field, let alone the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status >= 500) event.detail.shouldSwap = false;
  });
  // Where a business is (hourglass/places.py): a new business takes the
  // browser's time zone, and picking a country suggests its currency and (when
  // it has one) its zone, unless the person already chose them by hand.
  function setPlaces() {
    var data = document.getElementById("place-suggestions");
    var country = document.querySelector("[data-place-country]");
    if (!data || !country) return;
    var suggestions = JSON.parse(data.textContent);
    var form = country.form;
    var currency = form.querySelector("[data-place-currency]");
    var zone = form.querySelector("[data-place-timezone]");
    var chosen = {};
    function offer(select, value) {
      if (!select || !value || chosen[select.name]) return;
      if (select.querySelector('option[value="' + CSS.escape(value) + '"]')) {
        select.value = value;
      }
    }
    if (zone && zone.hasAttribute("data-place-new") && window.Intl) {
      offer(zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
    }
    [currency, zone].forEach(function (select) {
      if (select) {
        select.addEventListener("change", function () {
          chosen[select.name] = true;
        });
      }
    });
    country.addEventListener("change", function () {
      var place = suggestions[country.value] || {};
      offer(currency, place.currency);
      offer(zone, place.timezone);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setPlaces);
  } else {
    setPlaces();
  }

  // A session that ended meanwhile answers with the login page: load it whole.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr.responseURL || "";
    if (url.indexOf("/accounts/login/") !== -1) {
      window.location.href = url;
      event.detail.shouldSwap = false;
    }
  });
})();
