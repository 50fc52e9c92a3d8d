// Small progressive enhancements; every page works without JavaScript. Messages come from the page
// (data-msg-* attributes), in the page's language.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('#alert-table input[name="ids"]').forEach(function (cb) { cb.checked = all.checked; });
      });
    }
    var bulk = document.getElementById("bulk-form");
    if (bulk) {
      bulk.addEventListener("submit", function (ev) {
        var n = bulk.querySelectorAll('input[name="ids"]:checked').length;
        var action = document.getElementById("bulk-action").value;
        var comment = document.getElementById("bulk-comment").value.trim();
        if (!n) { ev.preventDefault(); alert(bulk.dataset.msgNone); return; }
        if ((action === "dismiss" || action === "reopen") && !comment) {
          ev.preventDefault(); alert(bulk.dataset.msgReason); return;
        }
      });
    }
    var triage = document.getElementById("triage-form");
    if (triage) {
      var comment = document.getElementById("comment");
      triage.querySelectorAll('input[name="action"]').forEach(function (r) {
        r.addEventListener("change", function () { comment.required = r.dataset.needsReason === "1"; });
      });
    }
  });
})();
