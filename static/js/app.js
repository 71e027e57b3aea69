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

  // A form that comes back with errors marks its error summary data-focus-on-load: move the
  // focus there (screen readers announce it, the page scrolls to it), on a full page load
  // and when htmx swaps the form in.
  function focusErrors(root) {
    var target = root && root.querySelector ? root.querySelector("[data-focus-on-load]") : null;
    if (!target && root && root.matches && root.matches("[data-focus-on-load]")) {
      target = root;
    }
    if (target) {
      target.focus();
      target.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrors(document);
  });
  document.addEventListener("htmx:load", function (event) {
    focusErrors(event.detail.elt);
  });
})();
