// The build's progress, from the server's event stream (SSE). Only a change of step is announced
// (the live region), so a screen reader is not flooded with percentages.
(function () {
  function watch() {
    var box = document.getElementById("progres");
    if (!box || !box.dataset.events || document.getElementById("fin").textContent.trim()) return;
    var bar = document.getElementById("barre"), step = document.getElementById("etape"),
        left = document.getElementById("reste"), done = document.getElementById("fin"),
        failed = document.getElementById("echec"), source = new EventSource(box.dataset.events);
    source.onmessage = function (e) {
      var ev = JSON.parse(e.data);
      bar.value = ev.percent;
      bar.textContent = ev.percent + " %";
      if (step.textContent !== ev.label) step.textContent = ev.label;
      left.textContent = ev.eta === null ? "" : "Environ " + ev.eta + " s restantes";
      if (ev.finished) {
        source.close();
        if (ev.error) { failed.textContent = ev.error; return; }
        done.innerHTML = "";
        done.append("Construction terminée. " + ev.summary + " ");
        var a = document.createElement("a");
        a.href = "/sorties"; a.textContent = "Voir les sorties";
        done.append(a);
        box.setAttribute("data-fini", "1");
      }
    };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch); else watch();
})();
