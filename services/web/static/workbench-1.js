// A form sent once per click: the button waits while the answer comes. A resend after a lost
// connection carries the same Idempotency-Key (a hidden field), so the service acts once anyway.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList.contains("once")) return;
  if (form.dataset.sent) { event.preventDefault(); return; }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) {
    b.dataset.label = b.textContent; b.disabled = true; b.textContent = "正在提交…";
  });
});
// Back to a page kept by the browser: its forms may be sent again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form.once").forEach(function (form) {
    delete form.dataset.sent;
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = false; if (b.dataset.label) b.textContent = b.dataset.label;
    });
  });
});
