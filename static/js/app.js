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

  // The review's presenter mode: one section a screen; arrows, Page Up/Down and the bar's
  // buttons move between sections, Escape goes back to the plain review.
  document.addEventListener("DOMContentLoaded", function () {
    var presenter = document.querySelector("[data-presenter]");
    if (!presenter) {
      return;
    }
    var sections = Array.prototype.slice.call(presenter.querySelectorAll(".review-section"));
    var position = presenter.querySelector("[data-presenter-position]");

    function current() {
      var index = 0;
      sections.forEach(function (section, i) {
        if (section.getBoundingClientRect().top <= window.innerHeight / 3) {
          index = i;
        }
      });
      return index;
    }

    function show(index) {
      index = Math.max(0, Math.min(sections.length - 1, index));
      sections[index].scrollIntoView({ block: "start", behavior: "instant" });
      label(index);
    }

    function label(index) {
      if (position) {
        var heading = sections[index].querySelector("h2");
        position.textContent =
          index + 1 + " / " + sections.length + (heading ? " · " + heading.textContent.trim() : "");
      }
    }

    document.addEventListener("keydown", function (event) {
      if (event.target.closest("input, select, textarea, [contenteditable]")) {
        return;
      }
      var moves = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 };
      if (event.key in moves) {
        event.preventDefault();
        show(current() + moves[event.key]);
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        show(event.key === "Home" ? 0 : sections.length - 1);
      } else if (event.key === "Escape") {
        window.location.href = presenter.getAttribute("data-exit-url");
      }
    });
    presenter.addEventListener("click", function (event) {
      if (event.target.closest("[data-presenter-next]")) {
        show(current() + 1);
      } else if (event.target.closest("[data-presenter-prev]")) {
        show(current() - 1);
      }
    });
    window.addEventListener("scroll", function () {
      label(current());
    }, { passive: true });
    show(0);
  });
})();
