// The invoice form's amount hint (rule C4): the contract rate of the chosen code times the units. The rates
// come from the page (json_script); the plan decides the amount allowed, this is only a hint.
(function () {
  function rates() {
    var el = document.getElementById("invoice-rates");
    return el ? JSON.parse(el.textContent) : {};
  }
  function money(n) {
    return "$" + n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function update(n) {
    var code = document.getElementById("id_line" + n + "_code");
    var units = document.getElementById("id_line" + n + "_units");
    var charge = document.getElementById("id_line" + n + "_charge");
    var hint = document.getElementById("line" + n + "_hint");
    if (!code || !units || !hint) return;
    var rate = parseFloat(rates()[code.value]);
    var u = parseFloat(units.value);
    if (isNaN(rate)) {
      hint.textContent = "Amount hint: the contract rate × units.";
      return;
    }
    if (isNaN(u) || u <= 0) {
      hint.textContent = "Contract rate " + money(rate) + " per unit; enter the units.";
      return;
    }
    var total = Math.round(rate * u * 100) / 100;
    hint.textContent = "Contract rate " + money(rate) + " × " + u + " = " + money(total) + ".";
    if (charge) charge.placeholder = total.toFixed(2);
  }
  function lineOf(el) {
    var m = el && el.id && el.id.match(/^id_line(\d+)_(code|units)$/);
    return m ? m[1] : null;
  }
  function all() {
    document.querySelectorAll("[data-testid=invoice-line]").forEach(function (fs) {
      update(fs.dataset.line);
    });
  }
  document.addEventListener("input", function (e) {
    var n = lineOf(e.target);
    if (n) update(n);
  });
  document.addEventListener("change", function (e) {
    var n = lineOf(e.target);
    if (n) update(n);
  });
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSettle", all);
})();
