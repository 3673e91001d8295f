// Grille PIN — small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Grid form: live progress count, and a warning before leaving with unsaved changes.
  var form = document.getElementById("grid-form");
  if (form) {
    var total = Number(form.dataset.total);
    var counter = form.querySelector("[data-answered]");
    var bar = form.querySelector("progress");
    var dirty = false;
    var update = function () {
      var answered = form.querySelectorAll("input[type=radio]:checked").length;
      counter.textContent = answered;
      bar.value = answered;
    };
    form.addEventListener("change", function () { dirty = true; update(); });
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
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
