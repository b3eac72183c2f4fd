/**
 * The web page's script, served as GET /app.js (a file of its own, so the page runs under a
 * Content-Security-Policy of `script-src 'self'` with no inline script). Plain ES5-style browser
 * JavaScript kept as strings so it ships inside `dist/` with the compiled server.
 *
 * {@link PAGE_FORMAT_SCRIPT} holds the pure parts (label text, percentages, label placement) and
 * defines one global, `agegenderFormat`; unit tests run it in a `vm` context. {@link PAGE_UI_SCRIPT}
 * wires the DOM. {@link PAGE_SCRIPT} is both, in that order.
 */
import { WORK_MAX_SIDE } from './work.js';
import { ALPHA_BACKGROUND } from '../io/decode.js';

/** Pure helpers: no DOM. Defines `agegenderFormat` = { pct, genderText, faceLabel, placeLabels }. */
export const PAGE_FORMAT_SCRIPT = String.raw`var agegenderFormat = (function () {
  'use strict';
  // A probability as a whole percentage; never "100%" or "0%", which would claim certainty.
  function pct(p) {
    if (typeof p !== 'number' || !isFinite(p)) return '?';
    var v = p * 100;
    if (v >= 99.5) return '> 99%';
    if (v < 0.5) return '< 1%';
    return Math.round(v) + '%';
  }
  // "female 97%", or for an abstention "gender uncertain (female 55%)".
  function genderText(f) {
    if (f.gender === 'uncertain') {
      return typeof f.femaleProbability === 'number' ? 'gender uncertain (female ' + pct(f.femaleProbability) + ')' : 'gender uncertain';
    }
    return f.gender + ' ' + pct(f.genderProbability);
  }
  // "#1 age 35 (30–41) · female 97%"
  function faceLabel(f, i) {
    return '#' + (i + 1) + ' age ' + Math.round(f.age) + ' (' + Math.round(f.ageInterval[0]) + '\u2013' + Math.round(f.ageInterval[1]) + ') \u00b7 ' + genderText(f);
  }
  function overlaps(a, b) {
    return a.x < b.x + b.w + 2 && b.x < a.x + a.w + 2 && a.y < b.y + b.h + 2 && b.y < a.y + a.h + 2;
  }
  // Places one label per box inside a W×H area, never covering a label already placed: the full text
  // below, above or inside its box where it covers no other face; else the short text (the face
  // number) inside, below or above its box, covering no other face if it can; else none (the list
  // under the photo still has every face). boxes: [{x,y,w,h}]; sizes: [{full:{w,h}, short:{w,h}}].
  // Returns [{kind:'full'|'short'|'none', x, y}].
  function placeLabels(boxes, sizes, W, H) {
    var placed = [];
    var tries = [{ kind: 'full', avoid: true }, { kind: 'short', avoid: true }, { kind: 'short', avoid: false }];
    function spotsFor(b, s, kind) {
      var x = Math.max(0, Math.min(b.x, W - s.w));
      var inside = { x: Math.max(0, Math.min(b.x + 2, W - s.w)), y: b.y + 2 };
      var below = { x: x, y: b.y + b.h }, above = { x: x, y: b.y - s.h };
      return kind === 'full' ? [below, above, inside] : [inside, below, above];
    }
    return boxes.map(function (b, i) {
      for (var t = 0; t < tries.length; t++) {
        var s = sizes[i][tries[t].kind];
        var spots = spotsFor(b, s, tries[t].kind);
        for (var j = 0; j < spots.length; j++) {
          var r = { x: spots[j].x, y: spots[j].y, w: s.w, h: s.h };
          if (s.w > W || r.y < 0 || r.y + r.h > H) continue;
          if (placed.some(function (p) { return overlaps(p, r); })) continue;
          if (tries[t].avoid && boxes.some(function (o, k) { return k !== i && overlaps(o, r); })) continue;
          placed.push(r);
          return { kind: tries[t].kind, x: r.x, y: r.y };
        }
      }
      return { kind: 'none', x: 0, y: 0 };
    });
  }
  return { pct: pct, genderText: genderText, faceLabel: faceLabel, placeLabels: placeLabels };
})();
`;

/** The DOM side: upload (button, keyboard, drop), requests, boxes and labels (re-laid out on resize), the face list. */
export const PAGE_UI_SCRIPT = String.raw`(function () {
  'use strict';
  var F = agegenderFormat;
  var $ = function (id) { return document.getElementById(id); };
  var drop = $('drop'), input = $('file'), statusEl = $('status'), stage = $('stage'), photo = $('photo'), facesEl = $('faces');
  var NO_FACE_HINT = 'If this is a tight face crop (one face filling the picture), untick \u201cdetect faces\u201d to read it as one face.';
  var DETECT_HINT = 'If the photo has faces anywhere in it (not one face filling it), tick \u201cdetect faces\u201d.';
  var lastFile = null, shown = null, run = 0;
  // said after the faces when several files were dropped at once: only the first is analysed
  var droppedNote = '';
  // Aborts the requests of a run a later file (or option) superseded: the server then drops their work
  // instead of finishing it before it starts on the new photo.
  var inFlight = null;
  // The page's own ?genderThreshold= (checked by the server, which writes it here) is passed on to the API.
  var threshold = document.body.getAttribute('data-gender-threshold');
  var passOn = threshold ? '&genderThreshold=' + encodeURIComponent(threshold) : '';
  // A server without an explainer serves the page without the "Explain" option: nothing to ask it.
  var canExplain = document.body.getAttribute('data-explain') !== 'false';

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = kind || '';
  }
  function post(path, file, signal) {
    var sep = path.indexOf('?') >= 0 ? '&' : '?';
    var url = path + sep + 'detect=' + ($('detect').checked ? 'true' : 'false') + passOn;
    return fetch(url, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' }, signal: signal }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (res.ok && body) return body;
        var e = new Error(body && body.error ? body.error.message : httpText(res.status));
        e.code = body && body.error ? body.error.code : String(res.status);
        throw e;
      });
    }, function () {
      // fetch rejects only when no answer came (the server stopped, the network is down): say that, not "Failed to fetch"
      var e = new Error('the server did not answer (it may have stopped, or the network is down); try again');
      e.code = 'UNREACHABLE';
      throw e;
    });
  }
  // An answer without the API's JSON error (a proxy or gateway in front): what its status means.
  function httpText(status) {
    if (status === 413) return 'the file is too large for the server (HTTP 413)';
    if (status === 429) return 'too many requests; wait a minute and try again (HTTP 429)';
    if (status >= 500) return 'the server failed (HTTP ' + status + '); try again later';
    if (status < 400) return 'the server\'s answer could not be read (HTTP ' + status + ')';
    return 'the server refused the request (HTTP ' + status + ')';
  }
  function clearFaces() {
    var old = stage.querySelectorAll('.face-box, .face-label');
    for (var i = 0; i < old.length; i++) old[i].remove();
    facesEl.textContent = '';
    shown = null;
  }
  function makeLabel(text, cls) {
    var el = document.createElement('span');
    el.className = 'face-label ' + cls;
    el.textContent = text;
    el.setAttribute('aria-hidden', 'true'); // the list under the photo carries the same text for screen readers
    stage.appendChild(el);
    return el;
  }
  // Boxes and labels in displayed pixels; run again whenever the photo's displayed size changes.
  function layout() {
    var old = stage.querySelectorAll('.face-box, .face-label');
    for (var i = 0; i < old.length; i++) old[i].remove();
    if (!shown || !photo.clientWidth) return;
    var sx = photo.clientWidth / shown.width, sy = photo.clientHeight / shown.height;
    var boxes = shown.faces.map(function (f, n) {
      var b = { x: f.box.x * sx, y: f.box.y * sy, w: f.box.width * sx, h: f.box.height * sy };
      var box = document.createElement('div');
      box.className = 'face-box';
      box.dataset.index = String(n);
      box.style.left = b.x + 'px';
      box.style.top = b.y + 'px';
      box.style.width = b.w + 'px';
      box.style.height = b.h + 'px';
      stage.appendChild(box);
      return b;
    });
    var labels = shown.faces.map(function (f, n) {
      return { full: makeLabel(F.faceLabel(f, n), 'full'), short: makeLabel(String(n + 1), 'short') };
    });
    var sizes = labels.map(function (l) {
      return { full: { w: l.full.offsetWidth, h: l.full.offsetHeight }, short: { w: l.short.offsetWidth, h: l.short.offsetHeight } };
    });
    var spots = F.placeLabels(boxes, sizes, photo.clientWidth, photo.clientHeight);
    labels.forEach(function (l, n) {
      ['full', 'short'].forEach(function (kind) {
        var el = l[kind];
        if (spots[n].kind !== kind) return el.remove();
        el.dataset.index = String(n);
        el.style.left = spots[n].x + 'px';
        el.style.top = spots[n].y + 'px';
      });
    });
  }
  function listFaces(result) {
    result.faces.forEach(function (f, n) {
      var card = document.createElement('li');
      card.className = 'face-card';
      card.dataset.index = String(n);
      var img = document.createElement('img');
      img.alt = 'explanation for face ' + (n + 1);
      img.className = 'overlay';
      var text = document.createElement('p');
      text.className = 'face-text';
      text.textContent = F.faceLabel(f, n);
      var note = document.createElement('p');
      note.className = 'pending';
      note.textContent = 'explanation pending\u2026';
      card.appendChild(text);
      if (canExplain) {
        card.appendChild(img);
        card.appendChild(note);
      }
      facesEl.appendChild(card);
    });
  }
  function facesText(n) { return n + (n === 1 ? ' face' : ' faces'); }
  function foundText(result) {
    // the server keeps at most its --max-faces faces, the highest-scoring: say so when it cut some
    var cut = result.facesFound > result.faces.length ? result.faces.length + ' of ' + result.facesFound + ' faces (the highest-scoring; the server lists at most ' + result.faces.length + ')' : facesText(result.faces.length);
    return cut + (result.turned ? ', found with the photo turned ' + result.turned + '\u00b0' : '') +
      (result.note ? ' (' + result.note + ')' : '') + droppedNote +
      (photo.hidden ? ' (the photo cannot be shown here; the faces are listed below)' : '');
  }
  function explainFaces(result, file, mine, signal) {
    var target = $('target').value;
    return post('/v1/explain?target=' + target, file, signal).then(function (ex) {
      if (mine !== run) return;
      ex.faces.forEach(function (f) {
        var card = facesEl.querySelector('.face-card[data-index="' + f.index + '"]');
        if (!card) return;
        card.querySelector('img').src = f.explanation.overlayPng;
        var what = f.explanation.output === 'age' ? 'the age' : 'P(' + f.explanation.output + ')';
        card.querySelector('.pending').textContent = 'explanation of ' + what + ': blue raises it, orange lowers it';
      });
      var rest = facesEl.querySelectorAll('.face-card img:not([src])');
      for (var k = 0; k < rest.length; k++) rest[k].parentNode.querySelector('.pending').textContent = 'not explained (the server explains the first ' + ex.faces.length + ' faces)';
      setStatus(foundText(result) + '; explanation of ' + target + ' shown for ' + ex.faces.length + '.');
    }, function (e) {
      if (mine !== run) return;
      var pend = facesEl.querySelectorAll('.pending');
      for (var k = 0; k < pend.length; k++) pend[k].textContent = 'explanation unavailable';
      setStatus(foundText(result) + '; explanation unavailable: ' + e.message, e.code === 'EXPLAIN_UNAVAILABLE' ? '' : 'error');
    });
  }
  // null when the file cannot be read (a folder dropped, a file moved or deleted since it was chosen).
  function readAsDataUrl(file) {
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result)); };
      reader.onerror = function () { resolve(null); };
      reader.readAsDataURL(file);
    });
  }
  function showPhoto(file, mine) {
    // A data: URL, not a blob: one: the page's CSP allows img-src 'self' data: only.
    return readAsDataUrl(file).then(function (url) {
      // a later file was chosen while this one was read: the photo element is that file's now
      if (mine !== run) throw new Error('superseded');
      if (url === null) {
        // sending it would fail the same way, as a misleading network error
        photo.hidden = true;
        var e = new Error('the file cannot be read (a folder, or a file moved or deleted since it was chosen?)');
        e.code = 'UNREADABLE';
        throw e;
      }
      return new Promise(function (resolve) {
        // false when the browser cannot show the file (HEIC outside Safari): the server still analyses it.
        photo.onload = function () { resolve(true); };
        photo.onerror = function () { resolve(false); };
        photo.src = url;
        if (!url) resolve(false);
      });
    });
  }
  function noFace(e) {
    // the hint for the other setting of "detect faces", unless the server has no detector (then it is disabled)
    var box = $('detect');
    var hint = box.checked ? ' ' + NO_FACE_HINT : box.disabled ? '' : ' ' + DETECT_HINT;
    if (!e) return 'No face found.' + hint;
    // the API's message already starts with "no usable face: "
    var reason = e.message.replace(/^no usable face: /i, '');
    var message = /[.!?]$/.test(reason) ? reason : reason + '.';
    return 'No usable face: ' + message + hint;
  }
  // A photo the browser shows that is larger than the server analyses (its longer side is cut to
  // this anyway) is sent shrunk: upright as shown, alpha on mid-grey (as the server flattens it), JPEG. A phone's 12-50 MP photo then
  // uploads in a fraction of the time and stays under the server's size limits. Others go as they are.
  var SEND_MAX_SIDE = ${WORK_MAX_SIDE.photo};
  function toSend(file) {
    var w = photo.naturalWidth, h = photo.naturalHeight;
    if (Math.max(w, h) <= SEND_MAX_SIDE) return Promise.resolve(file);
    var scale = SEND_MAX_SIDE / Math.max(w, h);
    var canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    var ctx = canvas.getContext('2d');
    ctx.fillStyle = 'rgb(${ALPHA_BACKGROUND}, ${ALPHA_BACKGROUND}, ${ALPHA_BACKGROUND})';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(photo, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) {
      canvas.toBlob(function (blob) { resolve(blob || file); }, 'image/jpeg', 0.92);
    });
  }
  function showPreview(file, mine, signal) {
    return fetch('/v1/preview', { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' }, signal: signal })
      .then(function (res) { return res.ok ? res.blob() : null; })
      .then(function (blob) { return blob ? readAsDataUrl(blob) : null; })
      .then(function (url) {
        return new Promise(function (resolve) {
          if (!url || mine !== run) return resolve(false);
          photo.onload = function () { if (mine === run) photo.hidden = false; resolve(true); };
          photo.onerror = function () { resolve(false); };
          photo.src = url;
        });
      })
      .catch(function () { return false; });
  }
  // "photo.jpg: " before an error, so the message names the file it is about (a pasted image has no name).
  function named(file) { return file.name ? file.name + ': ' : ''; }
  function analyse(file) {
    var mine = ++run;
    if (inFlight) inFlight.abort();
    inFlight = window.AbortController ? new AbortController() : null;
    var signal = inFlight ? inFlight.signal : undefined;
    lastFile = file;
    clearFaces();
    photo.alt = 'the photo chosen'; // not the last photo's "n faces boxed" while this one is analysed, or failed
    if (file.size === 0) {
      photo.hidden = true;
      return setStatus('Error: ' + named(file) + 'the file is empty (0 bytes)', 'error');
    }
    setStatus('Finding faces\u2026');
    var sent = file;
    showPhoto(file, mine).then(function (showable) {
      if (mine !== run) throw new Error('superseded'); // the photo element now shows a later file
      if (showable) {
        photo.hidden = false;
        return toSend(file).then(function (body) { sent = body; return post('/v1/predict', body, signal); });
      }
      // The browser cannot show it (a HEIC outside Safari): the server's JPEG preview is shown instead
      // once it is there (also when the analysis fails), and the file itself is analysed meanwhile.
      photo.hidden = true;
      return Promise.all([post('/v1/predict', file, signal), showPreview(file, mine, signal)]).then(function (r) { return r[0]; });
    }).then(function (result) {
      if (mine !== run) return;
      shown = result;
      photo.alt = 'the photo, ' + facesText(result.faces.length) + ' boxed';
      layout();
      listFaces(result);
      if (result.faces.length === 0) return setStatus(noFace(null), 'warn');
      if (!canExplain) return setStatus(foundText(result) + ' (' + Math.round(result.ms) + ' ms).');
      setStatus(foundText(result) + ' (' + Math.round(result.ms) + ' ms). Explaining\u2026');
      return explainFaces(result, sent, mine, signal);
    }).catch(function (e) {
      if (mine !== run) return;
      if (e.code === 'NO_USABLE_FACE') return setStatus(noFace(e), 'warn');
      setStatus('Error: ' + named(file) + e.message, 'error');
    });
  }
  drop.addEventListener('click', function () { input.click(); });
  input.addEventListener('change', function () {
    droppedNote = '';
    if (input.files && input.files[0]) analyse(input.files[0]);
    input.value = '';
  });
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('over'); });
  // A photo dropped anywhere on the page (on the zone, or on the photo shown) is analysed; the
  // browser must never navigate away from the page to open it.
  document.addEventListener('dragover', function (e) { e.preventDefault(); });
  document.addEventListener('drop', function (e) {
    e.preventDefault();
    drop.classList.remove('over');
    var files = (e.dataTransfer && e.dataTransfer.files) || [];
    droppedNote = files.length > 1 ? ' (only the first of the ' + files.length + ' files dropped, ' + files[0].name + ', is analysed: drop one at a time)' : '';
    if (files[0]) analyse(files[0]);
  });
  if (canExplain) $('target').addEventListener('change', function () { if (lastFile) analyse(lastFile); });
  $('detect').addEventListener('change', function () { if (lastFile) analyse(lastFile); });
  if (window.ResizeObserver) new ResizeObserver(function () { layout(); }).observe(photo);
  window.addEventListener('resize', layout);
  window.addEventListener('orientationchange', layout);
})();
`;

/** The whole script served as /app.js. */
export const PAGE_SCRIPT = `${PAGE_FORMAT_SCRIPT}\n${PAGE_UI_SCRIPT}`;
