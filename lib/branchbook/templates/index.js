// Search, filters and sorting for the period index. Static: reads the table, no network.
(function () {
  "use strict";
  var table = document.getElementById("bb-index");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var query = document.getElementById("bb-q");
  var region = document.getElementById("bb-region");
  var status = document.getElementById("bb-status");
  var level = document.getElementById("bb-level");
  var none = document.getElementById("bb-none");
  var lang = document.documentElement.lang || "en";
  document.getElementById("bb-controls").hidden = false;

  function apply() {
    var q = query.value.trim().toLowerCase();
    var r = region.value;
    var s = status.value;
    var l = level ? level.value : "";
    var shown = 0;
    rows.forEach(function (row) {
      var match = (!q || row.getAttribute("data-search").indexOf(q) !== -1) &&
        (!r || row.getAttribute("data-region") === r) &&
        (!l || row.getAttribute("data-level") === l) &&
        (!s || (" " + row.getAttribute("data-status") + " ").indexOf(" " + s + " ") !== -1);
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    none.hidden = shown > 0;
  }
  [query, region, status, level].forEach(function (el) {
    if (!el) { return; }
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });

  // Drill-down: a link to a row (#u-bank, #u-region-East, #u-0101) shows the bank whole,
  // a region or a branch with its region's rows; back and forward replay it.
  function follow() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (id && (!target || target.parentNode !== body)) { return; }
    query.value = "";
    status.value = "";
    if (level) { level.value = ""; }
    // no row named (back to where the page opened), or the bank: every level
    var up = !target || target.getAttribute("data-level") === "bank";
    region.value = up ? "" : target.getAttribute("data-region") || "";
    apply();
    if (target) { target.scrollIntoView({ block: "nearest" }); }
  }
  window.addEventListener("hashchange", follow);
  follow();

  function key(row, col, numeric) {
    var v = row.cells[col].getAttribute("data-sort") || "";
    if (!numeric) { return v; }
    return v === "" ? NaN : parseFloat(v);
  }
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = key(a, col, numeric);
        var y = key(b, col, numeric);
        if (numeric) {
          if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }  // missing values last
          return (x - y) * dir;
        }
        return x.localeCompare(y, lang, { numeric: true }) * dir;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
