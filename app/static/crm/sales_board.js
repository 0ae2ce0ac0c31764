/* Pipeline board: drag a card onto another stage's column to move it. The drop submits the card's own
 * move form for that stage (rendered only for a legal move), so the server applies the same rules as
 * the buttons; an illegal drop does nothing. Moving to "lost" asks for the reason in the card's field. */
(function () {
  "use strict";
  function init() {
    var dragged = null;
    document.querySelectorAll("#crm-sales-board .crm-board-card").forEach(function (card) {
      card.setAttribute("draggable", "true");
      card.addEventListener("dragstart", function (ev) {
        dragged = card;
        ev.dataTransfer.setData("text/plain", card.getAttribute("data-opportunity-id"));
      });
      card.addEventListener("dragend", function () { dragged = null; });
    });
    document.querySelectorAll("#crm-sales-board .crm-board-column").forEach(function (column) {
      column.addEventListener("dragover", function (ev) {
        if (dragged && dragged.querySelector('button[data-stage="' + column.getAttribute("data-stage") + '"]')) {
          ev.preventDefault();
        }
      });
      column.addEventListener("drop", function (ev) {
        ev.preventDefault();
        if (!dragged) { return; }
        var button = dragged.querySelector('button[data-stage="' + column.getAttribute("data-stage") + '"]');
        if (!button) { return; }
        var form = button.form;
        var reason = form.querySelector('input[name="lost_reason"]');
        if (reason && !reason.value) { reason.focus(); return; }
        form.submit();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
