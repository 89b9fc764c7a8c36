// The start-a-run form shows the fields of the chosen method only. Each
// field's wrapper names the methods that read it (data-methods); one without
// the attribute is every method's. Without JavaScript every field shows.
(function () {
  "use strict";

  function showFieldsOf(form) {
    var method = form.querySelector('select[name="method"]');
    if (!method) { return; }
    form.querySelectorAll("[data-methods]").forEach(function (field) {
      field.hidden = field.dataset.methods.split(" ").indexOf(method.value) === -1;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      var method = form.querySelector('select[name="method"]');
      if (!method || !form.querySelector("[data-methods]")) { return; }
      method.addEventListener("change", function () { showFieldsOf(form); });
      showFieldsOf(form);
    });
  });
})();
