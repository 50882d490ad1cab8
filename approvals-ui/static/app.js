// Mandate approvals — progressive enhancement only: the pages work without it.
(function () {
  'use strict';

  function left(deadline) {
    var ms = Date.parse(deadline) - Date.now();
    var s = Math.round(Math.abs(ms) / 1000);
    var text =
      s < 60
        ? s + 's'
        : s < 3600
          ? Math.floor(s / 60) + 'm ' + (s % 60) + 's'
          : Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return ms > 0 ? 'in ' + text : 'expired ' + text + ' ago';
  }

  function tick() {
    document.querySelectorAll('[data-deadline]').forEach(function (el) {
      el.textContent = left(el.getAttribute('data-deadline'));
      el.classList.toggle('late', Date.parse(el.getAttribute('data-deadline')) <= Date.now());
    });
  }

  // Data never breaks or reorders a line: controls, invisible and bidi characters become visible escapes
  // (the same set as core/format.ts displayText), and long text is cut.
  var UNSAFE =
    /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
  var NAMED = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  function safe(text, max) {
    var out = String(text).replace(UNSAFE, function (c) {
      return NAMED[c] || '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
    return out.length <= max ? out : out.slice(0, max) + '… (' + (out.length - max) + ' more characters)';
  }

  // The Explain rail stays live: server-sent events from the service, or polling the JSON API where
  // event streams do not get through. New observations are appended with textContent only.
  function liveRail(rail) {
    var id = rail.getAttribute('data-mission');
    var status = document.getElementById('status');
    function append(o) {
      if (o.seq <= Number(rail.getAttribute('data-seq'))) return;
      var li = document.createElement('li');
      li.className = 'k-' + o.kind + ' fresh';
      var t = document.createElement('time');
      t.textContent = String(o.at).slice(11, 19);
      var k = document.createElement('span');
      k.className = 'kind';
      k.textContent = o.kind;
      var sum = document.createElement('span');
      sum.className = 'sum';
      sum.textContent = ' ' + safe(o.summary, 600);
      li.append(t, ' ', k, sum);
      if (o.modelText) {
        // What the model wrote: its own labelled field, never part of the system's line.
        var model = document.createElement('span');
        model.className = 'model';
        model.setAttribute('data-testid', 'model-text');
        var said = document.createElement('span');
        said.className = 'said';
        said.textContent = 'model said';
        var text = document.createElement('span');
        text.className = 'text';
        text.textContent = safe(o.modelText, 600);
        model.append(said, ' ', text);
        li.append(' ', model);
      }
      rail.appendChild(li);
      rail.setAttribute('data-seq', String(o.seq));
    }
    function setStatus(value) {
      if (status && value) status.textContent = value;
    }
    function poll() {
      rail.setAttribute('data-live', 'poll');
      setInterval(function () {
        fetch('/api/missions/' + encodeURIComponent(id), { credentials: 'same-origin' })
          .then(function (r) {
            return r.ok ? r.json() : null;
          })
          .then(function (body) {
            if (!body) return;
            (body.observations || []).forEach(append);
            if (body.state) setStatus(body.state.status);
          })
          .catch(function () {});
      }, 2000);
    }
    if (typeof EventSource !== 'function') return poll();
    var opened = false;
    var source = new EventSource(
      '/api/missions/' + encodeURIComponent(id) + '/events?after=' + rail.getAttribute('data-seq'),
    );
    source.addEventListener('open', function () {
      opened = true;
      rail.setAttribute('data-live', 'events');
    });
    source.addEventListener('observation', function (e) {
      append(JSON.parse(e.data));
    });
    source.addEventListener('status', function (e) {
      setStatus(JSON.parse(e.data).status);
    });
    source.addEventListener('end', function () {
      source.close();
      rail.setAttribute('data-live', 'ended');
    });
    source.addEventListener('error', function () {
      // Never connected: the stream does not get through here, so poll instead.
      if (!opened) {
        source.close();
        poll();
      }
    });
  }

  // Rejecting needs a reason; approving needs the confirmation box (the server checks both again).
  function guardForms() {
    document.querySelectorAll('form.decide').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        var button = event.submitter;
        var reason = form.querySelector('textarea[name=reason]');
        if (button && button.value === 'reject' && reason && reason.value.trim() === '') {
          event.preventDefault();
          reason.setCustomValidity('A reason is required to reject.');
          reason.reportValidity();
          reason.addEventListener('input', function () {
            reason.setCustomValidity('');
          });
        }
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    tick();
    setInterval(tick, 1000);
    var rail = document.getElementById('rail');
    if (rail) liveRail(rail);
    guardForms();
  });
})();
