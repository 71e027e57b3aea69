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

  // Focus and announcements, for full pages and for every htmx swap, in one place. Pages opt
  // in with data attributes only:
  //   data-focus-first   this field takes the focus when its form opens (else the form's first)
  //   data-focus-target  after a swap that closes a form, focus goes here (else the swapped
  //                      element itself, made focusable with tabindex=-1)
  //   data-announce      its text is read once by the page's live region (#live-region)
  // A swap that brings invalid fields focuses the first of them (its error is tied to it by
  // aria-describedby, and the summary above links to each one).
  var FIELDS =
    "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function first(nodes, selector) {
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (!node.isConnected || !node.querySelectorAll) {
        continue;
      }
      var found = [];
      if (node.matches(selector)) {
        found.push(node);
      }
      found = found.concat(Array.prototype.slice.call(node.querySelectorAll(selector)));
      for (var j = 0; j < found.length; j++) {
        if (visible(found[j])) {
          return found[j];
        }
      }
    }
    return null;
  }

  function focusOn(el) {
    if (!el) {
      return false;
    }
    // A radio group is one Tab stop: the chosen option is the one to focus.
    if (el.type === "radio" && !el.checked && el.form) {
      var chosen = el.form.querySelector('input[type=radio][name="' + el.name + '"]:checked');
      el = chosen || el;
    }
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
    return document.activeElement === el;
  }

  function invalidField(nodes) {
    return first(nodes, "[aria-invalid=true]");
  }

  function announce(nodes) {
    var region = document.getElementById("live-region");
    var message = first(nodes, "[data-announce]");
    if (!region || !message) {
      return;
    }
    // Emptied first, so the same words said twice in a row are read again.
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message.textContent.replace(/\s+/g, " ").trim();
    }, 50);
  }

  // A page that comes back from a POST with errors: the first invalid field, else the
  // summary (a form error that belongs to no field).
  document.addEventListener("DOMContentLoaded", function () {
    if (!focusOn(invalidField([document.body]))) {
      focusOn(first([document.body], "[data-focus-on-load]"));
    }
  });

  // What the person did that started the request: a click or a submit means they expect the
  // focus to follow; a request started by typing, a timer or "load" must leave it alone.
  var pending = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var cause = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    pending = {
      byPerson: !!cause && (cause.type === "click" || cause.type === "submit"),
      verb: (event.detail.requestConfig && event.detail.requestConfig.verb) || "get",
      target: event.detail.target,
      id: event.detail.target && event.detail.target.id,
      fresh: [],
    };
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (pending) {
      var active = document.activeElement;
      pending.focusInside = !!(active && active !== document.body && event.detail.target &&
        event.detail.target.contains(active));
    }
  });
  document.addEventListener("htmx:load", function (event) {
    if (pending) {
      pending.fresh.push(event.detail.elt);
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var swap = pending;
    pending = null;
    if (!swap) {
      return;
    }
    // An outerHTML swap replaced the target: the new element carries the same id.
    var target = swap.target && swap.target.isConnected ? swap.target : null;
    if (!target && swap.id) {
      target = document.getElementById(swap.id);
    }
    var nodes = swap.fresh.filter(function (node) {
      return node && node.isConnected && node !== document.body;
    });
    if (!nodes.length && target) {
      nodes = [target];
    }
    announce(nodes);
    // The swap took away the element that had the focus: it must land somewhere sensible.
    var lost =
      swap.focusInside && (!document.activeElement || document.activeElement === document.body);
    if (!swap.byPerson && !lost) {
      return;
    }
    if (focusOn(invalidField(nodes))) {
      return;
    }
    // A GET that brings a form: the form opened, its first field takes the focus.
    if (swap.verb === "get" && focusOn(first(nodes, "[data-focus-first]") || first(nodes, FIELDS))) {
      return;
    }
    // Otherwise the form closed (saved or cancelled): back to the row it belongs to.
    focusOn(first(nodes, "[data-focus-target]") || target || nodes[0]);
  });

  // A table wider than the screen scrolls sideways in its .table-responsive box; a keyboard
  // user can scroll it only if the box takes the focus (WCAG 2.1.1), so it does while it
  // overflows, named after its table's caption or the heading above it.
  function scrollables() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      var overflows = box.scrollWidth > box.clientWidth + 1;
      if (overflows && !box.hasAttribute("tabindex")) {
        var table = box.querySelector("table");
        var caption = table && table.caption ? table.caption.textContent : "";
        var heading = box.closest("section, .card, main");
        heading = heading ? heading.querySelector("h1, h2, h3") : null;
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (caption || (heading && heading.textContent) || gettext("Table"))
          .replace(/\s+/g, " ").trim());
        box.setAttribute("data-scroll-focus", "");
      } else if (!overflows && box.hasAttribute("data-scroll-focus")) {
        ["tabindex", "role", "aria-label", "data-scroll-focus"].forEach(function (name) {
          box.removeAttribute(name);
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", scrollables);
  document.addEventListener("htmx:afterSettle", scrollables);
  window.addEventListener("resize", scrollables);

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
