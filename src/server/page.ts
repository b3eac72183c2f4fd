/**
 * The web page served at GET /: plain HTML + JS, no build step, no external resources.
 * Drop (or pick) a photo: it is sent to /v1/predict, each face is boxed with age, gender and
 * probability, then /v1/explain adds each face's explanation overlay.
 * Kept as a string module so it ships inside `dist/` with the compiled server.
 */
export const PAGE_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agegender</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; padding: 1.5rem; color: #1d232b; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  p.note { color: #55606e; margin: 0 0 1rem; max-width: 48rem; }
  #drop { border: 2px dashed #8a96a6; border-radius: 10px; padding: 1.6rem; text-align: center; background: #fff; cursor: pointer; }
  #drop.over { border-color: #2563eb; background: #eef4ff; }
  #status { margin: .8rem 0; min-height: 1.4em; }
  #status.error { color: #b42318; }
  #stage { position: relative; display: inline-block; max-width: 100%; }
  #photo { display: block; max-width: 100%; max-height: 70vh; }
  .face-box { position: absolute; border: 2px solid #facc15; box-shadow: 0 0 0 1px #0008; box-sizing: border-box; }
  .face-label { position: absolute; left: -2px; bottom: 100%; white-space: nowrap; background: #facc15; color: #111; font-size: 12px; padding: 1px 5px; border-radius: 3px 3px 0 0; }
  #faces { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 1rem; }
  .face-card { background: #fff; border-radius: 8px; padding: .6rem; box-shadow: 0 1px 3px #0002; width: 200px; font-size: 13px; }
  .face-card img { width: 200px; height: 200px; display: block; background: #ddd; }
  .face-card img:not([src]) { visibility: hidden; }
  .face-card .pending { color: #55606e; font-style: italic; }
  select, label { font: inherit; }
</style>
</head>
<body>
<h1>agegender</h1>
<p class="note">Drop a photo: each face is boxed with an age estimate (80% interval) and the gender label as annotated in UTKFace (binary, not gender identity), with its probability; then the explanation shows which regions drove the answer. The photo is processed in memory and not stored.</p>
<div id="drop" tabindex="0">Drop a photo here, or click to choose one
  <input id="file" type="file" accept="image/*" hidden>
</div>
<p><label>Explain <select id="target"><option value="gender">gender</option><option value="age">age</option></select></label>
   <label><input id="detect" type="checkbox" checked> detect faces (untick for an aligned face chip)</label></p>
<div id="status" role="status"></div>
<div id="stage"><img id="photo" alt=""></div>
<div id="faces"></div>
<script>
(function () {
  'use strict';
  var drop = document.getElementById('drop');
  var input = document.getElementById('file');
  var statusEl = document.getElementById('status');
  var stage = document.getElementById('stage');
  var photo = document.getElementById('photo');
  var facesEl = document.getElementById('faces');
  var lastFile = null;
  var run = 0;

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? 'error' : '';
  }
  function pct(p) { return Math.round(p * 100) + '%'; }
  function labelOf(f) {
    return 'age ' + Math.round(f.age) + ' (' + Math.round(f.ageInterval[0]) + '\\u2013' + Math.round(f.ageInterval[1]) + ') \\u00b7 ' + f.gender + ' ' + pct(f.genderProbability);
  }
  function clearBoxes() {
    var old = stage.querySelectorAll('.face-box');
    for (var i = 0; i < old.length; i++) old[i].remove();
    facesEl.textContent = '';
  }
  function post(path, file) {
    var detect = document.getElementById('detect').checked ? 'true' : 'false';
    var sep = path.indexOf('?') >= 0 ? '&' : '?';
    return fetch(path + sep + 'detect=' + detect, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) {
            var e = new Error(body && body.error ? body.error.message : ('HTTP ' + res.status));
            e.code = body && body.error ? body.error.code : String(res.status);
            throw e;
          }
          return body;
        });
      });
  }
  function drawBoxes(result) {
    var sx = photo.clientWidth / result.width;
    var sy = photo.clientHeight / result.height;
    result.faces.forEach(function (f, i) {
      var box = document.createElement('div');
      box.className = 'face-box';
      box.dataset.index = String(i);
      box.style.left = (f.box.x * sx) + 'px';
      box.style.top = (f.box.y * sy) + 'px';
      box.style.width = (f.box.width * sx) + 'px';
      box.style.height = (f.box.height * sy) + 'px';
      var label = document.createElement('span');
      label.className = 'face-label';
      label.textContent = '#' + (i + 1) + ' ' + labelOf(f);
      box.appendChild(label);
      stage.appendChild(box);
      var card = document.createElement('div');
      card.className = 'face-card';
      card.dataset.index = String(i);
      var img = document.createElement('img');
      img.alt = 'explanation for face ' + (i + 1);
      img.className = 'overlay';
      var text = document.createElement('div');
      text.textContent = '#' + (i + 1) + ': ' + labelOf(f);
      var note = document.createElement('div');
      note.className = 'pending';
      note.textContent = 'explanation pending\u2026';
      card.appendChild(img);
      card.appendChild(text);
      card.appendChild(note);
      facesEl.appendChild(card);
    });
  }
  function analyse(file) {
    var mine = ++run;
    lastFile = file;
    clearBoxes();
    setStatus('Finding faces\\u2026');
    var url = URL.createObjectURL(file);
    var loaded = new Promise(function (resolve) {
      photo.onload = resolve;
      photo.onerror = resolve;
    });
    photo.src = url;
    Promise.all([post('/v1/predict', file), loaded]).then(function (r) {
      if (mine !== run) return;
      var result = r[0];
      drawBoxes(result);
      if (result.faces.length === 0) {
        setStatus('No face found.');
        return;
      }
      setStatus(result.faces.length + (result.faces.length === 1 ? ' face' : ' faces') + ' (' + Math.round(result.ms) + ' ms). Explaining\\u2026');
      var target = document.getElementById('target').value;
      return post('/v1/explain?target=' + target, file).then(function (ex) {
        if (mine !== run) return;
        ex.faces.forEach(function (f) {
          var card = facesEl.querySelector('.face-card[data-index="' + f.index + '"]');
          if (!card) return;
          card.querySelector('img').src = f.explanation.overlayPng;
          card.querySelector('.pending').textContent = 'explanation of ' + f.explanation.target + ': green raises it, red lowers it';
        });
        var rest = facesEl.querySelectorAll('.face-card img:not([src])');
        for (var k = 0; k < rest.length; k++) rest[k].parentNode.querySelector('.pending').textContent = 'not explained (the server explains the first ' + ex.faces.length + ' faces)';
        setStatus(result.faces.length + (result.faces.length === 1 ? ' face' : ' faces') + '; explanation of ' + target + ' shown for ' + ex.faces.length + '.');
      }, function (e) {
        if (mine !== run) return;
        var pend = facesEl.querySelectorAll('.pending');
        for (var k = 0; k < pend.length; k++) pend[k].textContent = 'explanation unavailable';
        setStatus(result.faces.length + ' face(s); explanation unavailable: ' + e.message, e.code !== 'EXPLAIN_UNAVAILABLE');
      });
    }).catch(function (e) {
      if (mine !== run) return;
      setStatus('Error: ' + e.message, true);
    });
  }
  drop.addEventListener('click', function () { input.click(); });
  drop.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') input.click(); });
  input.addEventListener('change', function () { if (input.files && input.files[0]) analyse(input.files[0]); });
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
  drop.addEventListener('drop', function (e) {
    e.preventDefault();
    drop.classList.remove('over');
    var f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) analyse(f);
  });
  document.getElementById('target').addEventListener('change', function () { if (lastFile) analyse(lastFile); });
  document.getElementById('detect').addEventListener('change', function () { if (lastFile) analyse(lastFile); });
})();
</script>
</body>
</html>
`;
