/* New ticket: look the customer up by mobile, resident ID or name while typing, then offer their
   subscriptions. Data comes from TicketDeskView.lookup (row rules and masking applied server-side). */
(function () {
  "use strict";
  var box = document.getElementById("crm-customer-q");
  if (!box) { return; }
  var hidden = document.getElementById("crm-customer-id");
  var hits = document.getElementById("crm-customer-hits");
  var chosen = document.getElementById("crm-customer-chosen");
  var subs = document.getElementById("crm-subscription");
  var labels = JSON.parse(document.getElementById("crm-ticket-new-labels").textContent);
  var timer = null;
  var seq = 0;

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function choose(c) {
    hidden.value = c.id;
    box.value = c.name;
    chosen.textContent = c.name + " · " + c.mobile + " · " + c.id_number;
    clear(hits);
    clear(subs);
    var blank = document.createElement("option");
    blank.value = ""; blank.textContent = "—";
    subs.appendChild(blank);
    c.subscriptions.forEach(function (s) {
      var o = document.createElement("option");
      o.value = s.id; o.textContent = s.label;
      subs.appendChild(o);
    });
    if (c.subscriptions.length === 1) { subs.value = String(c.subscriptions[0].id); }
  }

  function show(rows) {
    clear(hits);
    if (!rows.length) {
      var none = document.createElement("div");
      none.className = "list-group-item text-muted"; none.textContent = labels.none;
      hits.appendChild(none);
      return;
    }
    rows.forEach(function (c) {
      var a = document.createElement("a");
      a.href = "#"; a.className = "list-group-item crm-customer-hit";
      a.setAttribute("data-customer-id", c.id);
      a.textContent = c.name + " · " + c.mobile + " · " + c.id_number + (c.city ? " · " + c.city : "");
      a.addEventListener("click", function (ev) { ev.preventDefault(); choose(c); });
      hits.appendChild(a);
    });
  }

  function search() {
    var q = box.value.trim();
    hidden.value = "";
    chosen.textContent = "";
    if (q.length < 1) { clear(hits); return; }
    var mine = ++seq;
    fetch(box.getAttribute("data-url") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {result: []}; })
      .then(function (data) { if (mine === seq) { show(data.result || []); } })
      .catch(function () { clear(hits); });
  }

  box.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(search, 250);
  });
}());
