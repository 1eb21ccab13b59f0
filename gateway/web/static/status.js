// crcgw status page: refresh the live regions in place every few seconds (no reload).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var every = parseInt(live.getAttribute("data-refresh-ms"), 10) || 3000;
  var url = live.getAttribute("data-fragment");
  var state = document.getElementById("refresh-state");
  var failures = 0;
  var busy = false;

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var focused = document.activeElement && document.activeElement.id;
    Array.prototype.forEach.call(doc.querySelectorAll(".region[id]"), function (fresh) {
      var old = document.getElementById(fresh.id);
      if (old) { old.replaceWith(document.importNode(fresh, true)); }
    });
    if (focused) {
      var again = document.getElementById(focused);
      if (again && document.activeElement !== again) { again.focus({preventScroll: true}); }
    }
  }

  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url + window.location.search, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        swap(html);
        if (failures) { state.textContent = "Live again."; }
        failures = 0;
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function (error) {
        failures += 1;
        state.textContent = "Cannot reach the gateway (" + error.message + "); retrying.";
      })
      .then(function () { busy = false; });
  }

  window.setInterval(tick, every);
  document.addEventListener("visibilitychange", tick);
  var filter = document.querySelector("form.filter");
  if (filter) {
    Array.prototype.forEach.call(filter.querySelectorAll("select"), function (select) {
      select.addEventListener("change", function () {
        var query = new URLSearchParams(new FormData(filter)).toString();
        window.history.replaceState(null, "", "?" + query);
        tick();
      });
    });
  }
}());
