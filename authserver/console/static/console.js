/* authserver console: progressive enhancement only. Every page works without
 * this file (dialogs open through ?dialog=..., forms post normally). */
(function () {
  "use strict";

  function cleanUrl() {
    var url = new URL(window.location.href);
    if (url.searchParams.has("dialog")) {
      url.searchParams.delete("dialog");
      url.searchParams.delete("email");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
  }

  function openDialog(dialog) {
    if (dialog.open) dialog.close();
    dialog.showModal();
    var first = dialog.querySelector("[autofocus], [aria-invalid=true], select, input:not([type=hidden]), textarea");
    if (first) first.focus();
  }

  // links that open a dialog: the server-side fallback is the link's ?dialog=ID
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        openDialog(dialog);
      }
      return;
    }
    var closer = event.target.closest("dialog [data-close]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    var copier = event.target.closest("[data-copy]");
    if (copier) {
      copy(copier);
      return;
    }
    var adder = event.target.closest("[data-add-email]");
    if (adder) {
      event.preventDefault();
      addEmail(adder.closest("[data-emails]"));
      return;
    }
    var remover = event.target.closest("[data-remove-email]");
    if (remover) {
      removeEmail(remover.closest("[data-email-row]"));
    }
  });

  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG") cleanUrl();
  }, true);

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    var say = function (text) { if (status) status.textContent = text; };
    var label = button.getAttribute("data-copy") === "client-secret" ? "Secret" : "Client ID";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say(label + " copied to the clipboard.");
      }, function () {
        field.select();
        say("Copying failed: the text is selected, press Ctrl+C.");
      });
    } else {
      field.select();
      say("The text is selected: press Ctrl+C to copy.");
    }
  }

  function renumber(box) {
    var prefix = box.getAttribute("data-prefix");
    var rows = box.querySelectorAll("[data-email-row]");
    rows.forEach(function (row, index) {
      var input = row.querySelector("input");
      var label = row.querySelector("label");
      var remove = row.querySelector("[data-remove-email]");
      input.id = input.name = prefix + "-" + index;
      label.setAttribute("for", input.id);
      label.textContent = "Notification e-mail " + (index + 1);
      remove.setAttribute("aria-label", "Remove e-mail " + (index + 1));
      remove.hidden = rows.length < 2;
    });
    var adder = box.querySelector("[data-add-email]");
    var max = Number(box.getAttribute("data-max"));
    if (adder && max) adder.disabled = rows.length >= max;
  }

  function addEmail(box) {
    var rows = box.querySelectorAll("[data-email-row]");
    if (rows.length >= Number(box.getAttribute("data-max") || Infinity)) return;
    var row = rows[rows.length - 1].cloneNode(true);
    var input = row.querySelector("input");
    input.value = "";
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    row.classList.remove("has-error");
    row.querySelectorAll(".error").forEach(function (error) { error.remove(); });
    rows[rows.length - 1].after(row);
    renumber(box);
    input.focus();
  }

  function removeEmail(row) {
    var box = row.closest("[data-emails]");
    var rows = box.querySelectorAll("[data-email-row]");
    var next = row.nextElementSibling && row.nextElementSibling.querySelector("input");
    row.remove();
    renumber(box);
    var focus = next || box.querySelector("[data-email-row]:last-of-type input");
    if (focus) focus.focus();
  }

  // the account menu (a <details>) closes on a click elsewhere and on Escape
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    var menu = event.key === "Escape" && event.target.closest && event.target.closest("details.account-menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  function init() {
    document.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll("[data-copy]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-emails]").forEach(renumber);
    var shown = document.querySelector("dialog[data-autoshow]");
    if (shown && typeof shown.showModal === "function") openDialog(shown);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
