// Reading a page aloud: the microphone recorded by MediaRecorder, a level meter and the length so far, the
// recorder stopping itself at the studio's maximum. The take goes to the studio, which plays it back and says its
// length against the text and any clipping or noise; the author keeps it ("Garder") or records again.
// The live region #etat-voix says only the changes of state, not the meter.
(function () {
  "use strict";
  var TYPES = [["audio/webm;codecs=opus", ".webm"], ["audio/ogg;codecs=opus", ".ogg"], ["audio/mp4", ".m4a"],
               ["audio/webm", ".webm"]];
  var rec = null;

  function $(id) { return document.getElementById(id); }
  function say(text) { var s = $("etat-voix"); if (s) s.textContent = text; }
  function duration(t) {
    var s = Math.round(t);
    return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60 < 10 ? "0" : "") + (s % 60) + " s";
  }
  function token() { return document.querySelector('meta[name="csrf-token"]').content; }

  function setup() {
    var box = document.querySelector(".enregistreur");
    if (!box || box.dataset.pret) return;
    box.dataset.pret = "1";
    if (window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) box.hidden = false;
    else $("sans-micro").hidden = false;
  }

  // A refusal (wrong type, too big, CSRF) comes as a whole page: only its message is shown in place.
  function errorOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html"), e = doc.querySelector(".erreur");
    if (!e) return '<div class="erreur" role="alert"><p>Le studio n\'a pas pu lire la prise.</p></div>';
    e.removeAttribute("id");
    e.setAttribute("role", "alert");
    return e.outerHTML;
  }

  function announce() {
    var t = document.querySelector("#prise [data-annonce]");
    say(t ? t.dataset.annonce : "");  // an error announces itself (role alert)
  }

  function show(html) {
    var box = $("prise");
    box.innerHTML = html;
    if (window.htmx) window.htmx.process(box);
    announce();
  }

  async function start(button) {
    var box = document.querySelector(".enregistreur"), problem = $("erreur-micro");
    problem.hidden = true;
    // Made within the key press or click: a context made after the permission prompt may start suspended.
    var ctx = new AudioContext(), stream;
    button.setAttribute("aria-disabled", "true");  // until the microphone answers
    try {
      // The raw voice: the studio levels and cleans it like any recording.
      stream = await navigator.mediaDevices.getUserMedia(
        {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
    } catch (e) {
      ctx.close();
      button.removeAttribute("aria-disabled");
      problem.textContent = "Le studio n'a pas accès au micro (" + e.name + ") : autorisez le micro pour cette " +
        "page dans le navigateur et vérifiez qu'un micro est branché, ou envoyez un fichier son.";
      problem.hidden = false;
      return;
    }
    var type = TYPES.find(function (t) { return MediaRecorder.isTypeSupported(t[0]); });
    var recorder = type ? new MediaRecorder(stream, {mimeType: type[0]}) : new MediaRecorder(stream);
    ctx.resume();
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var samples = new Float32Array(analyser.fftSize), max = +box.dataset.max, meter = $("niveau"),
        shown = $("duree-prise"), t0 = ctx.currentTime;
    var r = {recorder: recorder, stream: stream, ctx: ctx, chunks: [], ext: type ? type[1] : ".webm",
             ref: box.dataset.ref};
    rec = r;
    recorder.ondataavailable = function (e) { if (e.data.size) r.chunks.push(e.data); };
    recorder.onstop = function () { send(r); };
    // The length comes from the audio clock, which the microphone's samples drive.
    r.timer = setInterval(function () {
      analyser.getFloatTimeDomainData(samples);
      var peak = 0;
      for (var i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
      meter.value = Math.min(1, peak);
      meter.textContent = Math.round(100 * meter.value) + " %";
      var t = ctx.currentTime - t0;
      shown.dataset.secondes = t.toFixed(2);
      shown.textContent = duration(t);
      if (t >= max) stop("Durée maximale atteinte : l'enregistrement s'arrête. Envoi de la prise…");
    }, 100);
    recorder.start(1000);
    button.removeAttribute("aria-disabled");
    button.textContent = "Arrêter l'enregistrement";
    say("Enregistrement en cours");
  }

  function stop(note) {
    var r = rec;
    if (!r || r.stopping) return;
    r.stopping = true;
    clearInterval(r.timer);
    r.recorder.stop();
    r.stream.getTracks().forEach(function (t) { t.stop(); });
    r.ctx.close();
    $("niveau").value = 0;
    var button = $("enregistrer");
    // Not `disabled`: a disabled button drops the keyboard focus to the top of the page.
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Enregistrer à nouveau";
    say(note || "Enregistrement arrêté. Envoi de la prise…");
  }

  async function send(r) {
    var form = new FormData();
    form.append("csrf", token());
    form.append("ref", r.ref);
    form.append("fichier", new Blob(r.chunks, {type: r.recorder.mimeType}), "prise" + r.ext);
    try {
      var resp = await fetch("/voix/prise", {method: "POST", body: form,
                                              headers: {"X-CSRF-Token": token(), "HX-Request": "true"}});
      var html = await resp.text();
      show(resp.ok ? html : errorOf(html));
    } catch (e) {
      show(errorOf(""));
    } finally {
      rec = null;
      $("enregistrer").removeAttribute("aria-disabled");
      $("enregistrer").dataset.prises = String(+($("enregistrer").dataset.prises || 0) + 1);
    }
  }

  document.addEventListener("click", function (e) {
    if (!e.target || e.target.id !== "enregistrer") return;
    if (e.target.getAttribute("aria-disabled") === "true") return;  // the take is being sent
    if (rec) stop(); else start(e.target);
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "prise" && e.detail.xhr.status >= 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      e.detail.serverResponse = errorOf(e.detail.xhr.responseText);
    }
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    setup();
    if (e.detail.target && e.detail.target.id === "prise") announce();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
