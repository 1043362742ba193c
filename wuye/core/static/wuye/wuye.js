/* wuye's page behaviour without inline handlers (the Content-Security-Policy allows no
   on* attributes): a <select data-autosubmit> submits its form when changed; a button or
   link with data-confirm="question" asks first. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
