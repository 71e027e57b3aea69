/* Behaviour that used to sit in inline event handlers (onclick=, onchange=), which the
   Content-Security-Policy refuses. Elements opt in with data attributes; listeners are
   delegated from the document, so rows htmx swaps in work too. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print-page]")) {
      window.print();
    }
  });

  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });
})();
