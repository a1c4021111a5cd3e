// congdoan web: the only script. Live notices over server-sent events (/live): the unread badge,
// a toast, and the new notice at the top of the open list. Pages work without it.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live");
  if (!url || !window.EventSource) { return; }
  var source = new EventSource(url);
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function local(link) { return typeof link === "string" && link.charAt(0) === "/" && link.charAt(1) !== "/" ? link : "/notices"; }
  source.addEventListener("notice", function (ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    var badge = document.getElementById("unread-count");
    if (badge) {
      badge.textContent = String(data.unread);
      badge.className = data.unread ? "badge" : "badge zero";
    }
    var toasts = document.getElementById("toasts");
    (data.items || []).forEach(function (n) {
      if (toasts) {
        var t = el("div", "toast");
        var a = el("a", null, n.title);
        a.href = local(n.link);
        t.appendChild(el("small", null, "Thông báo mới · " + n.kind));
        t.appendChild(a);
        toasts.appendChild(t);
        setTimeout(function () { if (t.parentNode) { t.parentNode.removeChild(t); } }, 15000);
      }
      ["notice-list", "home-notices"].forEach(function (id) {
        var list = document.getElementById(id);
        if (!list || document.getElementById("live-" + n.id)) { return; }
        var empty = list.querySelector(".empty");
        if (empty) { list.removeChild(empty); }
        var li = el("li", "row unread fresh live");
        li.id = "live-" + n.id;
        var a = el("a", null, n.title);
        a.href = local(n.link);
        li.appendChild(a);
        li.appendChild(el("span", "meta", n.kind + " · " + n.at));
        list.insertBefore(li, list.firstChild);
      });
    });
  });
  source.addEventListener("expired", function () { source.close(); });
})();
