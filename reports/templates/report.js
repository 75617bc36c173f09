/* Filters and sorting of the long tables: inline, so the report works offline from disk. */
document.querySelectorAll("div.filters").forEach(function (bar) {
  var table = document.getElementById(bar.dataset.table);
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var selects = bar.querySelectorAll("select");
  function apply() {
    rows.forEach(function (row) {
      var show = true;
      selects.forEach(function (s) {
        if (s.value && row.cells[+s.dataset.col].textContent.trim() !== s.value) show = false;
      });
      row.hidden = !show;
    });
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  var sort = bar.querySelector("button");
  if (sort) sort.addEventListener("click", function () {
    var col = +sort.dataset.col;
    function key(row) { var v = parseFloat(row.cells[col].textContent); return isNaN(v) ? Infinity : v; }
    rows.slice().sort(function (a, b) { return key(b) - key(a); })
        .forEach(function (row) { table.tBodies[0].appendChild(row); });
  });
});
