// Grille PIN — small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Grid form: live progress count; each statement saved as people go, with its own status;
  // a warning before leaving while something is not saved yet.
  var form = document.getElementById("grid-form");
  if (form) {
    var counter = form.querySelector("[data-answered]");
    var bar = form.querySelector("progress");
    var unsaved = {};  // item id -> true while that statement has changes not yet saved
    var timers = {};
    var fr = document.documentElement.lang !== "en";
    var text = {
      saving: fr ? "Enregistrement…" : "Saving…",
      saved: fr ? "Enregistré" : "Saved",
      failed: fr ? "Non enregistré : cliquez « Enregistrer »." : "Not saved: click “Save”.",
      keepMine: fr ? "Garder ma réponse" : "Keep my answer",
      conflict: fr ? "Une autre personne a enregistré : " : "Someone else saved: "
    };
    var update = function () {
      var answered = form.querySelectorAll("input[type=radio]:checked").length;
      counter.textContent = answered;
      bar.value = answered;
    };
    var itemOf = function (element) {
      var fieldset = element.closest("fieldset.item");
      return fieldset ? fieldset.id.replace(/^item-/, "") : null;
    };
    var status = function (item, message, kind) {
      var el = document.querySelector("#item-" + CSS.escape(item) + " [data-status]");
      if (!el) { return; }
      el.textContent = message;
      el.className = "save-status " + (kind || "");
      return el;
    };
    var save = function (item) {
      var fieldset = document.getElementById("item-" + item);
      var data = new FormData();
      data.append("csrf_token", form.querySelector("[name=csrf_token]").value);
      fieldset.querySelectorAll("input, textarea, select").forEach(function (field) {
        if (!field.name || ((field.type === "radio" || field.type === "checkbox") && !field.checked)) { return; }
        data.append(field.name, field.value);
      });
      status(item, text.saving);
      fetch(form.dataset.statementUrl.replace("__ITEM__", encodeURIComponent(item)), {
        method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { code: response.status, body: body };
        });
      }).then(function (result) {
        var base = fieldset.querySelector("input[name='" + item + "-base']");
        if (result.code === 200) {
          base.value = result.body.base;
          delete unsaved[item];
          status(item, text.saved, "ok");
        } else if (result.code === 409) {
          var theirs = result.body.theirs || {};
          var el = status(item, text.conflict + (theirs.label || "—") + (theirs.comment ? " « " + theirs.comment + " »" : "") + ". ", "conflict");
          var keep = document.createElement("button");
          keep.type = "button";
          keep.textContent = text.keepMine;
          keep.addEventListener("click", function () { base.value = result.body.base; save(item); });
          el.appendChild(keep);
        } else if (result.code === 401) {
          form.querySelector("[data-session-banner]").hidden = false;
          status(item, text.failed, "error");
        } else {
          status(item, (result.body && result.body.error) || text.failed, "error");
        }
      }).catch(function () { status(item, text.failed, "error"); });
    };
    var later = function (item, delay) {
      unsaved[item] = true;
      clearTimeout(timers[item]);
      timers[item] = setTimeout(function () { save(item); }, delay);
    };
    form.addEventListener("change", function (event) {
      update();
      var item = itemOf(event.target);
      if (item) { later(item, 0); }
    });
    form.addEventListener("input", function (event) {
      var item = itemOf(event.target);
      if (item && (event.target.tagName === "TEXTAREA" || event.target.type === "text")) { later(item, 1200); }
    });
    form.addEventListener("submit", function () { unsaved = {}; });
    window.addEventListener("beforeunload", function (event) {
      if (Object.keys(unsaved).length) { event.preventDefault(); event.returnValue = ""; }
    });
    update();
  }

  // Move the focus to the list of problems so keyboard and screen-reader users hear it.
  var problems = document.getElementById("problems");
  if (problems) { problems.focus(); }

  // "Add a row" buttons under the participants and organisations tables.
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var body = document.querySelector("[data-rows='" + button.dataset.addRow + "'] tbody");
      var last = body.lastElementChild;
      var index = body.children.length;
      var row = last.cloneNode(true);
      row.querySelectorAll("input, select").forEach(function (field) {
        field.name = field.name.replace(/-\d+-/, "-" + index + "-");
        field.id = field.name;
        field.value = "";
        field.removeAttribute("aria-invalid");
      });
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      body.appendChild(row);
      row.querySelector("input").focus();
    });
  });
})();
