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

  // The Explain rail stays live: poll the JSON API and append new observations (textContent only).
  function pollRail(rail) {
    var id = rail.getAttribute('data-mission');
    var status = document.getElementById('status');
    function once() {
      fetch('/api/missions/' + encodeURIComponent(id), { credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (body) {
          if (!body) return;
          var seq = Number(rail.getAttribute('data-seq'));
          (body.observations || []).forEach(function (o) {
            if (o.seq <= seq) return;
            var li = document.createElement('li');
            li.className = 'k-' + o.kind + ' fresh';
            var t = document.createElement('time');
            t.textContent = String(o.at).slice(11, 19);
            var k = document.createElement('span');
            k.className = 'kind';
            k.textContent = o.kind;
            var sum = document.createElement('span');
            sum.className = 'sum';
            sum.textContent = ' ' + o.summary;
            li.append(t, ' ', k, sum);
            rail.appendChild(li);
            rail.setAttribute('data-seq', String(o.seq));
          });
          if (status && body.state) status.textContent = body.state.status;
        })
        .catch(function () {});
    }
    setInterval(once, 2000);
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
    if (rail) pollRail(rail);
    guardForms();
  });
})();
