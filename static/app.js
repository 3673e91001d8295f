// Grille PIN — small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Grid form: live progress count; each statement saved as people go, with its own status;
  // a warning before leaving while something is not saved yet.
  //
  // The saves of one statement go one after another: each is based on the version (`base`) the
  // previous one returned, so a person's own quick changes never look like someone else's.
  // Changes made while a save is on its way wait for it, then leave together with the latest
  // values. The texts come from the page (data-text-*), translated there.
  var form = document.getElementById("grid-form");
  if (form) {
    var counter = form.querySelector("[data-answered]");
    var bar = form.querySelector("progress");
    var at = form.querySelector("input[name=at]");
    var text = {
      saving: form.dataset.textSaving,
      saved: form.dataset.textSaved,
      failed: form.dataset.textFailed,
      keepMine: form.dataset.textKeepMine,
      conflict: form.dataset.textConflict
    };
    var unsaved = {};  // item id -> true while that statement has changes the server does not hold
    var timers = {};   // item id -> a save waiting for a pause in typing
    var busy = {};     // item id -> true while a save of it is on its way
    var again = {};    // item id -> true when it changed while busy: send once more after
    var changes = {};  // item id -> how many changes so far (was anything changed since a save left?)
    var leaving = false;       // the whole form is being submitted
    var deferred = null;       // that submission waits for the saves on their way (their bases)
    var update = function () {
      var answered = form.querySelectorAll("input[type=radio]:checked").length;
      counter.textContent = answered;
      bar.value = answered;
    };
    var itemOf = function (element) {
      var fieldset = element.closest && element.closest("fieldset.item");
      return fieldset ? fieldset.id.replace(/^item-/, "") : null;
    };
    var fieldsetOf = function (item) { return document.getElementById("item-" + item); };
    var status = function (item, message, kind) {
      var el = document.querySelector("#item-" + CSS.escape(item) + " [data-status]");
      if (!el) { return; }
      el.textContent = message;
      el.className = "save-status " + (kind || "");
      return el;
    };
    // The first message of a 422 answer: `error`, else the first one in `errors` (nested).
    var firstMessage = function (value) {
      if (typeof value === "string") { return value; }
      var found = null;
      if (value && typeof value === "object") {
        Object.keys(value).some(function (key) { found = firstMessage(value[key]); return !!found; });
      }
      return found;
    };
    // The carried-over answers still to confirm, as the server counts them after each save.
    var toConfirm = function (body) {
      if (!body || typeof body.to_confirm !== "number") { return; }
      var box = document.querySelector("[data-to-confirm-box]");
      var count = document.querySelector("[data-to-confirm]");
      var next = document.querySelector("a[data-next-to-confirm]");
      if (count) { count.textContent = body.to_confirm; }
      if (box) { box.hidden = body.to_confirm === 0; }
      if (next) {
        if (body.next_to_confirm) { next.href = "#item-" + body.next_to_confirm; }
        next.hidden = !body.next_to_confirm;
      }
    };
    var anyBusy = function () { return Object.keys(busy).some(function (item) { return busy[item]; }); };
    var settled = function () {
      // A submission waiting for the saves on their way leaves once they are back.
      if (deferred && !anyBusy()) {
        var submitter = deferred.submitter;
        deferred = null;
        if (form.requestSubmit) { form.requestSubmit(submitter || undefined); } else { form.submit(); }
      }
    };
    var save = function (item) {
      clearTimeout(timers[item]);
      delete timers[item];
      if (leaving) { return; }
      if (busy[item]) { again[item] = true; return; }
      busy[item] = true;
      again[item] = false;
      var sent = changes[item] || 0;
      var fieldset = fieldsetOf(item);
      var base = fieldset.querySelector("input[name='" + item + "-base']");
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
          return { code: response.status, body: body || {} };
        });
      }).then(function (result) {
        busy[item] = false;
        if (result.code === 200) {
          base.value = result.body.base;
          fieldset.querySelectorAll("[aria-invalid][data-autosave-invalid]").forEach(function (field) {
            field.removeAttribute("aria-invalid");
            field.removeAttribute("data-autosave-invalid");
          });
          toConfirm(result.body);
          if (again[item]) {
            save(item);  // what changed meanwhile, based on what was just saved
          } else if ((changes[item] || 0) === sent) {
            delete unsaved[item];
            status(item, text.saved, "ok");
          }  // else a pause in typing will send the rest
        } else if (result.code === 409) {
          // Someone else saved this statement meanwhile: show theirs; ours stays in the form.
          again[item] = false;
          toConfirm(result.body);
          var theirs = result.body.theirs || {};
          var el = status(item, text.conflict + (theirs.label || "—") + (theirs.comment ? " « " + theirs.comment + " »" : "") + ". ", "conflict");
          var keep = document.createElement("button");
          keep.type = "button";
          keep.textContent = text.keepMine;
          keep.addEventListener("click", function () { base.value = result.body.base; save(item); });
          if (el) { el.appendChild(keep); }
        } else if (result.code === 401) {
          // The session ended: the server keeps what was sent for this person, to show it again
          // after they sign in; the statement stays « not saved » here, and later changes go too.
          form.querySelector("[data-session-banner]").hidden = false;
          status(item, text.failed, "error");
          if (again[item]) { save(item); }
        } else {
          var errors = result.body.errors;
          if (errors && typeof errors === "object" && !Array.isArray(errors)) {
            Object.keys(errors).forEach(function (name) {
              var field = fieldset.querySelector("[name='" + item + "-" + name + "']");
              if (field && field.type !== "radio") {
                field.setAttribute("aria-invalid", "true");
                field.setAttribute("data-autosave-invalid", "");
              }
            });
          }
          status(item, firstMessage(result.body.error) || firstMessage(errors) || text.failed, "error");
          if (again[item]) { save(item); }
        }
        settled();
      }).catch(function () {
        busy[item] = false;
        status(item, text.failed, "error");
        if (again[item]) { save(item); }
        settled();
      });
    };
    var later = function (item, delay) {
      unsaved[item] = true;
      changes[item] = (changes[item] || 0) + 1;
      var el = document.querySelector("#item-" + CSS.escape(item) + " [data-status].ok");
      if (el) { el.textContent = ""; el.className = "save-status"; }  // no longer true
      clearTimeout(timers[item]);
      timers[item] = setTimeout(function () { save(item); }, delay);
    };
    form.addEventListener("change", function (event) {
      update();
      var item = itemOf(event.target);
      if (item && event.target.name) { later(item, 0); }
    });
    form.addEventListener("input", function (event) {
      var item = itemOf(event.target);
      if (item && (event.target.tagName === "TEXTAREA" || event.target.type === "text")) { later(item, 1200); }
    });
    form.addEventListener("submit", function (event) {
      // The form carries every value; the saves on their way carry new bases it must wait for.
      leaving = true;
      Object.keys(timers).forEach(function (item) { clearTimeout(timers[item]); });
      timers = {};
      again = {};
      if (anyBusy()) {
        event.preventDefault();
        deferred = { submitter: event.submitter || null };
      }
    });
    window.addEventListener("beforeunload", function (event) {
      if (!leaving && (Object.keys(unsaved).length || anyBusy())) { event.preventDefault(); event.returnValue = ""; }
    });
    // Back to a statement: the form says which one had the focus (the page comes back at
    // #item-…), and on arriving at #item-… the focus goes into that statement.
    form.addEventListener("focusin", function (event) {
      var item = itemOf(event.target);
      if (item && at) { at.value = item; }
    });
    var focusStatement = function () {
      var match = /^#item-(.+)$/.exec(window.location.hash);
      if (!match) { return; }
      var fieldset = document.getElementById("item-" + decodeURIComponent(match[1]));
      if (!fieldset || !fieldset.matches("fieldset.item")) { return; }
      var target = fieldset.querySelector("input[type=radio]:checked") || fieldset.querySelector("input[type=radio]");
      if (target) { target.focus(); }
    };
    // Arriving at #item-…, the browser itself moves the focus to the page once it has loaded:
    // into the statement after that, unless the person has already gone somewhere.
    window.addEventListener("load", function () {
      setTimeout(function () {
        var active = document.activeElement;
        if (!document.getElementById("problems") && (!active || active === document.body)) { focusStatement(); }
      }, 0);
    });
    window.addEventListener("hashchange", focusStatement);
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
